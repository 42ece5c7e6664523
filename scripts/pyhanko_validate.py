#!/usr/bin/env python3
"""An independent check of a PDF's signatures with pyHanko (used by motcua's tests).

Usage: pyhanko_validate.py FILE.pdf [--trust CA.pem]...
Prints a JSON array, one object per embedded signature:
{"field","intact","valid","trusted","bottom_line","coverage","modification_level","docmdp_ok",
 "timestamped","signer"}.
"""
import json
import sys
import warnings

warnings.filterwarnings("ignore")

from pyhanko.keys import load_cert_from_pemder  # noqa: E402
from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: E402
from pyhanko.sign.validation import validate_pdf_signature  # noqa: E402
from pyhanko_certvalidator import ValidationContext  # noqa: E402


def main(argv):
    path = argv[1]
    roots = [argv[i + 1] for i, a in enumerate(argv) if a == "--trust"]
    vc = ValidationContext(
        trust_roots=[load_cert_from_pemder(r) for r in roots],
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    out = []
    with open(path, "rb") as fh:
        reader = PdfFileReader(fh, strict=False)
        for sig in reader.embedded_signatures:
            st = validate_pdf_signature(sig, vc, key_usage_settings=None)
            out.append(
                {
                    "field": sig.field_name,
                    "signer": st.signing_cert.subject.human_friendly if st.signing_cert else None,
                    "intact": bool(st.intact),
                    "valid": bool(st.valid),
                    "trusted": bool(st.trusted),
                    "bottom_line": bool(st.bottom_line),
                    "coverage": st.coverage.name if st.coverage else None,
                    "modification_level": st.modification_level.name if st.modification_level else None,
                    "docmdp_ok": st.docmdp_ok,
                    "timestamped": st.timestamp_validity is not None,
                    "timestamp_ok": bool(st.timestamp_validity.valid and st.timestamp_validity.intact)
                    if st.timestamp_validity is not None
                    else None,
                }
            )
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv)
