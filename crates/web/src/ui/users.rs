//! Accounts of a province: the administrator's list (search, filter, pages), an account's
//! page (name, role, agency, password reset, lock with confirmation), and the page where a
//! user changes their own password — required after a reset before anything else.

use super::{Form, Page, Tr, error_page, messages, render, render_form, see_other};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use motcua_domain::auth::Role;
use motcua_domain::codes::AgencyCode;
use motcua_domain::policy::Permission;
use motcua_service::store::{NewUser, User, UserChange, UserQuery};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/quan-tri/nguoi-dung", get(list).post(add))
        .route("/quan-tri/nguoi-dung/{username}", get(edit).post(save))
        .route("/quan-tri/nguoi-dung/{username}/mat-khau", post(reset))
        .route("/quan-tri/nguoi-dung/{username}/khoa", post(lock))
        .route("/doi-mat-khau", get(change_form).post(change))
}

/// A role's name in the page's language.
pub fn role_name(tr: Tr, r: Role) -> &'static str {
    let (vi, en) = r.label();
    tr.t(vi, en)
}

/// The roles as (code, name) choices.
fn role_choices(tr: Tr) -> Vec<(&'static str, &'static str)> {
    Role::ALL
        .into_iter()
        .map(|r| (r.as_str(), role_name(tr, r)))
        .collect()
}

async fn agency_choices(s: &AppState) -> Result<Vec<(String, String)>, ApiError> {
    Ok(s.store()
        .agencies(None, None, None, None, Some(500))
        .await?
        .items
        .into_iter()
        .map(|a| (a.code.to_string(), a.name))
        .collect())
}

pub struct UserRow {
    pub username: String,
    pub full_name: String,
    pub role: &'static str,
    pub agency: String,
    pub disabled: bool,
    pub must_change: bool,
}

#[derive(Template)]
#[template(path = "users.html")]
struct ListPage {
    page: Page,
    q: String,
    role: String,
    agency: String,
    rows: Vec<UserRow>,
    next: String,
    roles: Vec<(&'static str, &'static str)>,
    agencies: Vec<(String, String)>,
    notice: String,
    errors: Vec<String>,
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    agency: String,
    cursor: Option<String>,
    ok: Option<String>,
}

async fn list_page(
    s: &AppState,
    page: Page,
    q: ListQuery,
    notice: String,
    errors: Vec<String>,
) -> Response {
    let tr = page.tr;
    let Some(user) = page.user.clone() else {
        return see_other("/dang-nhap?next=/quan-tri/nguoi-dung");
    };
    let query = UserQuery {
        q: Some(q.q.clone()).filter(|x| !x.trim().is_empty()),
        role: Role::parse(&q.role).ok(),
        agency: Some(q.agency.clone()).filter(|x| !x.is_empty()),
        cursor: q.cursor.clone(),
        limit: Some(50),
    };
    let found = match s.user_page(&motcua_service::actor_of(&user), &query).await {
        Ok(p) => p,
        Err(e) => return error_page(tr, e.into()),
    };
    let agencies = match agency_choices(s).await {
        Ok(a) => a,
        Err(e) => return error_page(tr, e),
    };
    let name_of = |code: &Option<AgencyCode>| match code {
        Some(c) => agencies
            .iter()
            .find(|(k, _)| k == c.as_str())
            .map_or_else(|| c.to_string(), |(_, n)| n.clone()),
        None => String::new(),
    };
    let rows = found
        .items
        .iter()
        .map(|u| UserRow {
            username: u.username.clone(),
            full_name: u.full_name.clone(),
            role: role_name(tr, u.role),
            agency: name_of(&u.agency_code),
            disabled: u.disabled,
            must_change: u.must_change_password,
        })
        .collect();
    let has_errors = !errors.is_empty();
    render_form(
        &ListPage {
            page: page.titled("Người dùng", "Users"),
            q: q.q,
            role: q.role,
            agency: q.agency,
            rows,
            next: found.next_cursor.unwrap_or_default(),
            roles: role_choices(tr),
            agencies,
            notice,
            errors,
        },
        has_errors,
    )
}

async fn list(State(s): State<AppState>, page: Page, Query(q): Query<ListQuery>) -> Response {
    if let Err(r) = page.may(Permission::ManageUsers) {
        return r;
    }
    let notice =
        q.ok.as_ref()
            .map(|_| page.tr.t("Đã lưu.", "Saved.").to_owned())
            .unwrap_or_default();
    list_page(&s, page, q, notice, Vec::new()).await
}

async fn add(State(s): State<AppState>, page: Page, form: Form) -> Response {
    if let Err(r) = page.may(Permission::ManageUsers) {
        return r;
    }
    let back = |page, m| list_page(&s, page, ListQuery::default(), String::new(), m);
    let agency = match form.get("agency_code").map(AgencyCode::parse).transpose() {
        Ok(a) => a,
        Err(e) => {
            let m = messages(page.tr, &ApiError::from(e));
            return back(page, m).await;
        }
    };
    let role = match Role::parse(&form.text("role")) {
        Ok(r) => r,
        Err(e) => {
            let m = messages(page.tr, &ApiError::from(e));
            return back(page, m).await;
        }
    };
    let new = NewUser {
        username: form.text("username"),
        full_name: form.text("full_name"),
        password: form.text("password"),
        role,
        agency_code: agency,
    };
    match s.create_user(&page.acting(&s), new).await {
        Ok(u) => see_other(&format!("/quan-tri/nguoi-dung/{}?ok=1", u.username)),
        Err(e) => {
            let m = messages(page.tr, &ApiError::from(e));
            back(page, m).await
        }
    }
}

#[derive(Template)]
#[template(path = "user.html")]
struct EditPage {
    page: Page,
    u: User,
    /// The account's agency code (empty for none).
    agency: String,
    role_label: &'static str,
    roles: Vec<(&'static str, &'static str)>,
    agencies: Vec<(String, String)>,
    /// A password just set by a reset, shown once.
    password: String,
    /// Asking to confirm a lock.
    confirm_lock: bool,
    notice: String,
    errors: Vec<String>,
}

#[derive(Deserialize)]
struct EditQuery {
    ok: Option<String>,
}

/// What an account's page shows besides the account.
#[derive(Default)]
struct Shown {
    password: String,
    confirm_lock: bool,
    notice: String,
    errors: Vec<String>,
}

impl Shown {
    fn errors(errors: Vec<String>) -> Shown {
        Shown {
            errors,
            ..Shown::default()
        }
    }
}

async fn edit_page(s: &AppState, page: Page, username: &str, shown: Shown) -> Response {
    let tr = page.tr;
    let Shown {
        password,
        confirm_lock,
        notice,
        errors,
    } = shown;
    let u = match s.store().user_by_name(username).await {
        Ok(Some(u)) => u,
        Ok(None) => {
            return error_page(
                tr,
                ApiError::not_found(
                    format!("Không có người dùng «{username}»"),
                    format!("no user «{username}»"),
                ),
            );
        }
        Err(e) => return error_page(tr, e.into()),
    };
    let agencies = match agency_choices(s).await {
        Ok(a) => a,
        Err(e) => return error_page(tr, e),
    };
    let has_errors = !errors.is_empty();
    render_form(
        &EditPage {
            page: Page {
                title: format!("{} {}", tr.t("Tài khoản", "Account"), u.username),
                ..page
            },
            role_label: role_name(tr, u.role),
            agency: u
                .agency_code
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            u,
            roles: role_choices(tr),
            agencies,
            password,
            confirm_lock,
            notice,
            errors,
        },
        has_errors,
    )
}

async fn edit(
    State(s): State<AppState>,
    page: Page,
    Path(username): Path<String>,
    Query(q): Query<EditQuery>,
) -> Response {
    if let Err(r) = page.may(Permission::ManageUsers) {
        return r;
    }
    let notice =
        q.ok.map(|_| page.tr.t("Đã lưu.", "Saved.").to_owned())
            .unwrap_or_default();
    edit_page(
        &s,
        page,
        &username,
        Shown {
            notice,
            ..Shown::default()
        },
    )
    .await
}

async fn save(
    State(s): State<AppState>,
    page: Page,
    Path(username): Path<String>,
    form: Form,
) -> Response {
    if let Err(r) = page.may(Permission::ManageUsers) {
        return r;
    }
    let failed = |page: Page, e: ApiError| {
        let m = messages(page.tr, &e);
        let s = s.clone();
        let username = username.clone();
        async move { edit_page(&s, page, &username, Shown::errors(m)).await }
    };
    let role = match Role::parse(&form.text("role")) {
        Ok(r) => r,
        Err(e) => return failed(page, e.into()).await,
    };
    let agency = match form.get("agency_code").map(AgencyCode::parse).transpose() {
        Ok(a) => a.filter(|_| role.needs_agency()),
        Err(e) => return failed(page, e.into()).await,
    };
    let change = UserChange {
        full_name: form.text("full_name"),
        role,
        agency_code: agency,
    };
    match s.update_user(&page.acting(&s), &username, change).await {
        Ok(_) => see_other(&format!("/quan-tri/nguoi-dung/{username}?ok=1")),
        Err(e) => failed(page, e.into()).await,
    }
}

async fn reset(
    State(s): State<AppState>,
    page: Page,
    Path(username): Path<String>,
    _form: Form,
) -> Response {
    if let Err(r) = page.may(Permission::ManageUsers) {
        return r;
    }
    match s.reset_password(&page.acting(&s), &username).await {
        Ok(password) => {
            let notice = page
                .tr
                .t(
                    "Đã đặt lại mật khẩu. Trao mật khẩu tạm này cho người dùng; họ phải đổi ngay khi đăng nhập.",
                    "The password was reset. Give this temporary password to the user; they must change it when they log in.",
                )
                .to_owned();
            edit_page(
                &s,
                page,
                &username,
                Shown {
                    password,
                    notice,
                    ..Shown::default()
                },
            )
            .await
        }
        Err(e) => {
            let m = messages(page.tr, &ApiError::from(e));
            edit_page(&s, page, &username, Shown::errors(m)).await
        }
    }
}

async fn lock(
    State(s): State<AppState>,
    page: Page,
    Path(username): Path<String>,
    form: Form,
) -> Response {
    let me = match page.may(Permission::ManageUsers) {
        Ok(u) => u.username.clone(),
        Err(r) => return r,
    };
    let locking = form.get("disabled") == Some("1");
    if locking && username == me {
        let m = vec![
            page.tr
                .t(
                    "Không thể tự khóa tài khoản của mình.",
                    "You cannot lock your own account.",
                )
                .to_owned(),
        ];
        return edit_page(&s, page, &username, Shown::errors(m)).await;
    }
    // Locking stops the user's work at once: ask first (without JavaScript).
    if locking && form.get("confirmed") != Some("1") {
        return edit_page(
            &s,
            page,
            &username,
            Shown {
                confirm_lock: true,
                ..Shown::default()
            },
        )
        .await;
    }
    match s
        .set_user_locked(&page.acting(&s), &username, locking)
        .await
    {
        Ok(()) => see_other(&format!("/quan-tri/nguoi-dung/{username}?ok=1")),
        Err(e) => {
            let m = messages(page.tr, &ApiError::from(e));
            edit_page(&s, page, &username, Shown::errors(m)).await
        }
    }
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    page: Page,
    next: String,
    required: bool,
    errors: Vec<String>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn change_form(page: Page, Query(q): Query<NextQuery>) -> Response {
    let Some(u) = page.user.clone() else {
        return see_other("/dang-nhap?next=/doi-mat-khau");
    };
    render(&PasswordPage {
        next: crate::security::safe_next(q.next.as_deref()),
        required: u.must_change_password,
        errors: Vec::new(),
        page: page.titled("Đổi mật khẩu", "Change your password"),
    })
}

async fn change(State(s): State<AppState>, page: Page, form: Form) -> Response {
    let Some(u) = page.user.clone() else {
        return see_other("/dang-nhap?next=/doi-mat-khau");
    };
    let next = crate::security::safe_next(form.get("next"));
    let new = form.get("password").unwrap_or_default();
    let result = if form.get("password_again").unwrap_or_default() == new {
        s.change_password(
            &page.acting(&s),
            form.get("current_password").unwrap_or_default(),
            new,
        )
        .await
        .map_err(ApiError::from)
    } else {
        Err(ApiError::invalid(
            "password_again",
            "Hai lần nhập mật khẩu mới không khớp",
            "the two new passwords differ",
        ))
    };
    match result {
        Ok(()) => see_other(if next.is_empty() {
            super::portal::home_of(u.role)
        } else {
            &next
        }),
        Err(e) => {
            let errors = messages(page.tr, &e);
            let mut res = render(&PasswordPage {
                next,
                required: u.must_change_password,
                errors,
                page: page.titled("Đổi mật khẩu", "Change your password"),
            });
            *res.status_mut() = e.status;
            res
        }
    }
}
