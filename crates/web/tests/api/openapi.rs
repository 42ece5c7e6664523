//! The API contract as a snapshot: any change to `/api/v1/openapi.json` shows in review
//! (`cargo insta review`, or `INSTA_UPDATE=always cargo test -p motcua-web openapi` to accept).

#[test]
fn openapi_document() {
    let doc = motcua_web::openapi_json();
    let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
    // Every operation documents its errors as problem+json, with the listed problem types.
    for (path, item) in v["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for code in ["401", "403", "500"] {
                let r = &op["responses"][code];
                assert!(
                    r["content"]["application/problem+json"].is_object(),
                    "{method} {path}: no problem+json {code}"
                );
            }
        }
    }
    let types = v["components"]["schemas"]["Problem"]["properties"]["type"]["enum"]
        .as_array()
        .unwrap();
    assert!(types.iter().any(|t| t == "/problems/invalid-transition"));
    insta::assert_snapshot!("openapi", doc);
}
