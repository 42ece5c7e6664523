//! The web application's security and error handling, without a browser (the browser test is
//! e2e/run.mjs): anti-forgery tokens, cookie flags, login redirects, errors shown in the page.

use super::PASSWORD;
use motcua_web::testing::TestApp;
use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn cookie_value(set: &str) -> String {
    set.split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned()
}

fn set_cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// The anti-forgery token of a signed-in session.
fn session_csrf(app: &TestApp, session: &str) -> String {
    motcua_web::ui::csrf_token(&app.state.csrf_key[..], Some(session), "")
}

fn form_token(html: &str) -> String {
    let i = html
        .find("name=\"_csrf\" value=\"")
        .expect("a form with a token")
        + 20;
    html[i..i + 64].to_owned()
}

pub(super) async fn forms_need_the_anti_forgery_token(app: &TestApp) {
    let http = no_redirects();
    let r = http.get(app.url("/dang-nhap")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookies = set_cookies(&r);
    let csrf = cookies
        .iter()
        .find(|c| c.starts_with("__Host-motcua_csrf="))
        .expect("csrf cookie with the __Host- prefix");
    for flag in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(csrf.contains(flag), "{csrf} lacks {flag}");
    }
    assert!(!csrf.contains("Domain="), "a __Host- cookie has no Domain");
    let nonce = cookie_value(csrf);
    let html = r.text().await.unwrap();
    let token = form_token(&html);
    // The form's token is derived from the cookie with the server's key, not the cookie itself.
    assert_ne!(token, nonce);
    assert_eq!(
        token,
        motcua_web::ui::csrf_token(&app.state.csrf_key[..], None, &nonce)
    );

    // Without the token (a cross-site post): refused, in the page, in Vietnamese.
    let r = http
        .post(app.url("/dang-nhap"))
        .form(&[("username", "admin"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("Biểu mẫu đã hết hạn"));
    // A token that does not match the cookie: refused too.
    let r = http
        .post(app.url("/dang-nhap"))
        .header("cookie", format!("__Host-motcua_csrf={nonce}"))
        .form(&[
            ("_csrf", "0".repeat(64).as_str()),
            ("username", "admin"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A planted cookie repeated in the form (the double-submit bypass): refused.
    let planted = "ab".repeat(16);
    for name in ["__Host-motcua_csrf", "motcua_csrf"] {
        let r = http
            .post(app.url("/dang-nhap"))
            .header("cookie", format!("{name}={planted}"))
            .form(&[
                ("_csrf", planted.as_str()),
                ("username", "admin"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{name}");
    }
    let token_cookie = format!("__Host-motcua_csrf={nonce}");

    // Wrong password: the form again, with the error in it.
    let r = http
        .post(app.url("/dang-nhap"))
        .header("cookie", &token_cookie)
        .form(&[
            ("_csrf", token.as_str()),
            ("username", "admin"),
            ("password", "sai-mat-khau"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Sai tên đăng nhập hoặc mật khẩu")
    );

    // Right password: a session cookie, HttpOnly, Lax, Secure; off to the user's home screen.
    let r = http
        .post(app.url("/dang-nhap"))
        .header("cookie", &token_cookie)
        .form(&[
            ("_csrf", token.as_str()),
            ("username", "admin"),
            ("password", PASSWORD),
            ("next", "//evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()[LOCATION],
        "/quan-tri",
        "an outside `next` is ignored"
    );
    let session = set_cookies(&r)
        .into_iter()
        .find(|c| c.starts_with("motcua_session="))
        .expect("session cookie");
    for flag in ["HttpOnly", "SameSite=Lax", "Secure"] {
        assert!(session.contains(flag), "{session} lacks {flag}");
    }
    let sid = cookie_value(&session);
    let both = format!("{token_cookie}; motcua_session={sid}");
    // Signed in, the token is the session's: the one from before login no longer works.
    let token = session_csrf(app, &sid);
    let r = http
        .get(app.url("/quan-tri"))
        .header("cookie", &both)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // Logging out ends the session on the server, not only in the browser.
    let r = http
        .post(app.url("/dang-xuat"))
        .header("cookie", &both)
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = http
        .get(app.url("/quan-tri"))
        .header("cookie", &both)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/dang-nhap?next=/quan-tri");
}

pub(super) async fn pages_by_role_and_language(app: &TestApp) {
    let http = no_redirects();
    // Officers' screens send visitors to the login page, with the way back.
    let r = http.get(app.url("/xu-ly?loc=mine")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/dang-nhap?next=/xu-ly%3Floc%3Dmine");
    // A specialist is not an administrator: 403, explained in the page.
    let (token, _) = {
        let u = app
            .store()
            .user_by_name("chuyenvien")
            .await
            .unwrap()
            .unwrap();
        app.store()
            .issue_token(&u, app.now(), chrono::Duration::hours(1))
            .await
            .unwrap()
    };
    let r = http
        .get(app.url("/quan-tri"))
        .header("cookie", format!("motcua_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("Bạn không có quyền"));
    // English on request; unknown pages and dossiers say so in the page.
    let r = http
        .get(app.url("/tra-cuu?ma=000.01.31.H58-250124-0001"))
        .header("cookie", "motcua_lang=en")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("<html lang=\"en\">") && html.contains("not found"),
        "{html}"
    );
    let r = http
        .get(app.url("/ngon-ngu?l=en&next=https://evil.example/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()[LOCATION], "/");
    // Static files are cached.
    let r = http.get(app.url("/static/site.css")).send().await.unwrap();
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    // Pages cannot be framed and run only this site's scripts.
    let r = http.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(
        !r.text().await.unwrap().contains("onclick="),
        "no inline script"
    );
    // Only pages set the anti-forgery cookie: not the API, probes or static files.
    for path in ["/api/v1/procedures", "/healthz", "/static/site.css"] {
        let r = http.get(app.url(path)).send().await.unwrap();
        assert!(r.headers().get(SET_COOKIE).is_none(), "{path}");
    }
}

pub(super) async fn admin_locks_an_account(app: &TestApp) {
    let http = no_redirects();
    let now = app.now();
    let store = app.store();
    let admin_user = store.user_by_name("admin").await.unwrap().unwrap();
    let officer_user = store.user_by_name("chuyenvien").await.unwrap().unwrap();
    let (admin, _) = store
        .issue_token(&admin_user, now, chrono::Duration::hours(1))
        .await
        .unwrap();
    let (officer, _) = store
        .issue_token(&officer_user, now, chrono::Duration::hours(1))
        .await
        .unwrap();
    let csrf = session_csrf(app, &admin);
    let lock_asking = |who: &'static str, disabled: &'static str, confirmed: &'static str| {
        http.post(app.url(&format!("/quan-tri/nguoi-dung/{who}/khoa")))
            .header("cookie", format!("motcua_session={admin}"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("disabled", disabled),
                ("confirmed", confirmed),
            ])
            .send()
    };
    let lock = |who: &'static str, disabled: &'static str| lock_asking(who, disabled, "1");
    let queue = || {
        http.get(app.url("/xu-ly"))
            .header("cookie", format!("motcua_session={officer}"))
            .send()
    };
    // Locking asks for confirmation first, and nothing changes until it is given.
    let r = lock_asking("chuyenvien", "1", "").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    assert!(body.contains(r#"id="confirm-yes""#), "{body}");
    assert_eq!(queue().await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        lock("chuyenvien", "1").await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        queue().await.unwrap().status(),
        StatusCode::SEE_OTHER,
        "a locked account's session ends at once"
    );
    assert_eq!(
        lock("admin", "1").await.unwrap().status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "no locking oneself out"
    );
    assert_eq!(
        lock("chuyenvien", "0").await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(queue().await.unwrap().status(), StatusCode::OK);
    // Both changes are in the audit chain, by the administrator, at the injected time.
    let trail = store.audit_trail("user", "chuyenvien").await.unwrap();
    let actions: Vec<(&str, &str)> = trail
        .iter()
        .map(|e| (e.action.as_str(), e.actor.as_str()))
        .collect();
    assert_eq!(
        actions,
        [("create", "system"), ("lock", "admin"), ("unlock", "admin")]
    );
    assert_eq!(trail[1].at, now);
}

pub(super) async fn admin_imports_a_pasted_catalogue(app: &TestApp) {
    let http = no_redirects();
    let now = app.now();
    let admin_user = app.store().user_by_name("admin").await.unwrap().unwrap();
    let (admin, _) = app
        .store()
        .issue_token(&admin_user, now, chrono::Duration::hours(1))
        .await
        .unwrap();
    let csrf = session_csrf(app, &admin);
    let csv = "code,name,field,level,implementing_agency,decision_no,procedure_type,submission_modes,processing_time_parsed,fee_parsed\n\
               9.000001,\"Thủ tục thử nghiệm một\",Hộ tịch,Cấp xã,UBND xã,1/QĐ-UBND,TTHC,Trực tiếp;Trực tuyến,5 Ngày làm việc,\n\
               9.000002,\"Thủ tục thử nghiệm hai\",Hộ tịch,Cấp xã,UBND xã,1/QĐ-UBND,TTHC,Trực tiếp,3 Ngày làm việc,\n";
    let r = http
        .post(app.url("/quan-tri/thu-tuc"))
        .header("cookie", format!("motcua_session={admin}"))
        .form(&[("_csrf", csrf.as_str()), ("catalogue", csv)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let p = app.store().procedure("9.000002").await.unwrap();
    assert_eq!(p.name, "Thủ tục thử nghiệm hai");
    let trail = app.store().audit_trail("procedure", "*").await.unwrap();
    assert_eq!(trail.last().unwrap().actor, "admin");
    // A bad line: nothing imported, the line named in the page.
    let bad = "code,name,field,level,implementing_agency,decision_no,procedure_type,submission_modes,processing_time_parsed,fee_parsed\n\
               9.000003,\"Ba\",Hộ tịch,Cấp xã,UBND xã,1/QĐ,TTHC,Trực tiếp,3 Ngày làm việc,\n\
               x,\"\",Hộ tịch,Cấp xã,UBND xã,1/QĐ,TTHC,Trực tiếp,3 Ngày làm việc,\n";
    let r = http
        .post(app.url("/quan-tri/thu-tuc"))
        .header("cookie", format!("motcua_session={admin}"))
        .form(&[("_csrf", csrf.as_str()), ("catalogue", bad)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("line 3"));
    assert!(app.store().procedure("9.000003").await.is_err());
}

motcua_store::on_both!(
    crate::start_tcp =>
    admin_imports_a_pasted_catalogue,
    forms_need_the_anti_forgery_token,
    pages_by_role_and_language,
    admin_locks_an_account,
);
