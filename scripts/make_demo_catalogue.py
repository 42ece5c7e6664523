#!/usr/bin/env python3
"""Builds crates/motcua/data/demo_procedures.json from the national catalogue export
(crates/motcua/data/procedures_partial.csv): real codes, names, fields, levels, agencies and decisions,
plus what the export lacks (online level, components, blank time limits), marked illustrative."""
import csv, json, os, sys

here = os.path.dirname(os.path.abspath(__file__))
src = os.path.join(here, "..", "crates", "motcua", "data", "procedures_partial.csv")
rows = {r["code"]: r for r in csv.DictReader(open(src, encoding="utf-8"))}

CCCD = {"name": "Căn cước/Căn cước công dân hoặc giấy tờ tùy thân của người nộp (xuất trình)", "originals": 1, "copies": 0}
# code: (online_level, time limit override or None, components, non_territorial)
PICK = {
    "1.001193": ("full", (0, "same_day"), [{"name": "Tờ khai đăng ký khai sinh (theo mẫu)", "originals": 1, "copies": 0, "template": "TK-khai-sinh"}, {"name": "Giấy chứng sinh", "originals": 1, "copies": 0}, CCCD], True),
    "1.000894": ("partial", (0, "same_day"), [{"name": "Tờ khai đăng ký kết hôn (theo mẫu)", "originals": 1, "copies": 0}, CCCD], False),
    "1.000656": ("full", (0, "same_day"), [{"name": "Tờ khai đăng ký khai tử (theo mẫu)", "originals": 1, "copies": 0}, {"name": "Giấy báo tử hoặc giấy tờ thay Giấy báo tử", "originals": 1, "copies": 0}, CCCD], True),
    "1.001022": ("partial", (3, "working_days"), [{"name": "Tờ khai đăng ký nhận cha, mẹ, con", "originals": 1, "copies": 0}, {"name": "Chứng cứ chứng minh quan hệ cha, mẹ, con", "originals": 0, "copies": 1}, CCCD], False),
    "1.004873": ("full", (3, "working_days"), [{"name": "Tờ khai cấp Giấy xác nhận tình trạng hôn nhân", "originals": 1, "copies": 0}, CCCD], True),
    "1.004884": ("partial", (5, "working_days"), [{"name": "Tờ khai đăng ký lại khai sinh", "originals": 1, "copies": 0}, {"name": "Bản sao giấy tờ có thông tin khai sinh", "originals": 0, "copies": 1}], False),
    "1.004837": ("partial", None, [{"name": "Tờ khai đăng ký giám hộ", "originals": 1, "copies": 0}, {"name": "Văn bản cử người giám hộ", "originals": 1, "copies": 0}], False),
    "1.004859": ("partial", (3, "working_days"), [{"name": "Tờ khai thay đổi, cải chính, bổ sung thông tin hộ tịch", "originals": 1, "copies": 0}, {"name": "Giấy tờ làm căn cứ thay đổi, cải chính", "originals": 0, "copies": 1}], False),
    "2.000806": ("partial", (15, "working_days"), [{"name": "Tờ khai đăng ký kết hôn", "originals": 1, "copies": 0}, {"name": "Giấy xác nhận của tổ chức y tế", "originals": 1, "copies": 0}, CCCD], False),
    "1.004222": ("full", None, [{"name": "Tờ khai thay đổi thông tin cư trú (CT01)", "originals": 1, "copies": 0, "template": "CT01"}, {"name": "Giấy tờ chứng minh chỗ ở hợp pháp", "originals": 0, "copies": 1}], False),
    "1.004194": ("full", None, [{"name": "Tờ khai thay đổi thông tin cư trú (CT01)", "originals": 1, "copies": 0, "template": "CT01"}, {"name": "Giấy tờ chứng minh chỗ ở hợp pháp", "originals": 0, "copies": 1}], False),
    "1.002755": ("full", None, [{"name": "Tờ khai thay đổi thông tin cư trú (CT01)", "originals": 1, "copies": 0}], False),
    "1.003197": ("full", None, [{"name": "Tờ khai thay đổi thông tin cư trú (CT01)", "originals": 1, "copies": 0}], False),
    "1.001612": ("full", (3, "working_days"), [{"name": "Giấy đề nghị đăng ký hộ kinh doanh", "originals": 1, "copies": 0}, {"name": "Biên bản họp thành viên hộ gia đình (nếu có)", "originals": 0, "copies": 1, "required": False}], True),
    "2.000720": ("full", (3, "working_days"), [{"name": "Thông báo thay đổi nội dung đăng ký hộ kinh doanh", "originals": 1, "copies": 0}], True),
    "1.001266": ("full", (3, "working_days"), [{"name": "Thông báo chấm dứt hoạt động hộ kinh doanh", "originals": 1, "copies": 0}, {"name": "Giấy chứng nhận đăng ký hộ kinh doanh (bản gốc)", "originals": 1, "copies": 0}], True),
    "2.001610": ("full", None, [{"name": "Giấy đề nghị đăng ký doanh nghiệp", "originals": 1, "copies": 0}], True),
    "2.001583": ("full", None, [{"name": "Giấy đề nghị đăng ký doanh nghiệp", "originals": 1, "copies": 0}, {"name": "Điều lệ công ty", "originals": 1, "copies": 0}], True),
    "1.013225": ("partial", None, [{"name": "Đơn đề nghị cấp giấy phép xây dựng", "originals": 1, "copies": 0}, {"name": "Giấy tờ hợp pháp về đất đai", "originals": 0, "copies": 1}, {"name": "Bản vẽ thiết kế xây dựng", "originals": 2, "copies": 0}], False),
    "1.012783": ("partial", None, [{"name": "Đơn đề nghị cấp đổi Giấy chứng nhận", "originals": 1, "copies": 0}, {"name": "Giấy chứng nhận đã cấp (bản gốc)", "originals": 1, "copies": 0, "warehouse_copy_accepted": False}], True),
    "1.013978": ("partial", None, [{"name": "Đơn đăng ký đất đai, tài sản gắn liền với đất", "originals": 1, "copies": 0}, {"name": "Giấy tờ về quyền sử dụng đất", "originals": 0, "copies": 1}], False),
    "1.013831": ("partial", None, [{"name": "Đơn đăng ký biến động đất đai", "originals": 1, "copies": 0}, {"name": "Hợp đồng, văn bản về chuyển quyền", "originals": 1, "copies": 0}, {"name": "Giấy chứng nhận đã cấp", "originals": 1, "copies": 0, "warehouse_copy_accepted": False}], True),
    "1.012549": ("partial", None, [{"name": "Tờ khai căn cước (CC01)", "originals": 1, "copies": 0}], False),
    "1.004419": None, "1.000419": ("partial", None, [{"name": "Tờ khai đăng ký khai tử", "originals": 1, "copies": 0}], False),
    "1.000110": ("partial", (0, "same_day"), [{"name": "Tờ khai đăng ký khai sinh", "originals": 1, "copies": 0}, {"name": "Giấy chứng sinh", "originals": 1, "copies": 0}], False),
    "1.000094": ("partial", (0, "same_day"), [{"name": "Tờ khai đăng ký kết hôn", "originals": 1, "copies": 0}, CCCD], False),
    "2.000513": ("partial", (10, "working_days"), [{"name": "Tờ khai đăng ký lại kết hôn", "originals": 1, "copies": 0}], False),
    "1.005134": ("partial", None, [{"name": "Đơn đề nghị cấp giấy phép", "originals": 1, "copies": 0}], False),
    "1.010040": ("full", None, [{"name": "Tờ khai thay đổi thông tin cư trú (CT01)", "originals": 1, "copies": 0}], False),
    "1.010028": ("full", None, [{"name": "Tờ khai thay đổi thông tin cư trú (CT01)", "originals": 1, "copies": 0}], False),
}

LEVELS = {"Cấp bộ": "ministry", "Cấp tỉnh": "province", "Cấp xã": "commune", "Cơ quan khác": "other"}
CHANNELS = {"Trực tuyến": "online", "Trực tiếp": "counter", "Dịch vụ bưu chính": "postal"}
UNITS = {"Ngày làm việc": "working_days", "Ngày": "calendar_days", "Giờ": "working_hours", "Tháng": "months"}

out = []
for code, spec in PICK.items():
    if spec is None or code not in rows:
        continue
    r = rows[code]
    online, limit, comps, nonterr = spec
    tl, illustrative = None, []
    if r["processing_time_parsed"]:
        n, u = r["processing_time_parsed"].split(" ", 1)
        if "." not in n:
            tl = {"value": int(n), "unit": UNITS[u]}
    if tl is None and limit is not None:
        tl = {"value": limit[0], "unit": limit[1]}
        illustrative.append("thời hạn")
    fees = []
    fp = r["fee_parsed"]
    if fp and fp != "Miễn phí":
        n, cur = fp.split(" ", 1)
        fees = [{"name": "Lệ phí", "amount": int(n.replace(",", "")), "currency": "VND" if "Đồng" in cur else "USD", "kind": "charge"}]
    channels = [CHANNELS[c] for c in r["submission_modes"].split(";")]
    if online == "full" and "online" not in channels:
        online = "partial"
    agency = r["implementing_agency"] if r["implementing_agency"] != "Không có thông tin" else None
    p = {
        "code": code, "name": r["name"], "field": r["field"],
        "levels": [LEVELS[l.strip()] for l in r["level"].split(",")],
        "online_level": online, "channels": channels, "time_limit": tl,
        "fees": fees, "components": comps, "non_territorial": nonterr,
        "decision_no": r["decision_no"] or None, "procedure_type": r["procedure_type"] or None,
        "provenance": "Mã, tên, lĩnh vực, cấp, cơ quan, quyết định công bố: Danh mục TTHC quốc gia. "
                      "Mức độ trực tuyến, thành phần hồ sơ, phi địa giới"
                      + (", " + ", ".join(illustrative) if illustrative else "")
                      + ": minh họa cho bản demo, cần kiểm tra (illustrative demo values, verify).",
    }
    if fp: p["fee_text"] = fp
    if agency: p["implementing_agency"] = agency
    out.append({k: v for k, v in p.items() if v is not None})

json.dump(out, open(os.path.join(here, "..", "crates", "motcua", "data", "demo_procedures.json"), "w", encoding="utf-8"), ensure_ascii=False, indent=1)
print(len(out), "procedures")
