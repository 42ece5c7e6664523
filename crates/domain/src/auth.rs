//! Roles of users (docs/domain.md glossary).

use crate::Error;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A citizen or organisation filing dossiers.
    Citizen,
    /// One-stop officer (cán bộ tiếp nhận).
    Reception,
    /// Officer of a specialist department (chuyên viên).
    Specialist,
    /// Leader who approves and signs (lãnh đạo).
    Leader,
    /// Postal agent (nhân viên bưu điện).
    Postal,
    /// Province IT administrator.
    Admin,
    /// Operations-centre viewer (IOC).
    Viewer,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Citizen,
        Role::Reception,
        Role::Specialist,
        Role::Leader,
        Role::Postal,
        Role::Admin,
        Role::Viewer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::Reception => "reception",
            Role::Specialist => "specialist",
            Role::Leader => "leader",
            Role::Postal => "postal",
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    /// The role's name for people: (Vietnamese, English).
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            Role::Citizen => ("Công dân, tổ chức", "Citizen or organisation"),
            Role::Reception => ("Cán bộ tiếp nhận (một cửa)", "One-stop officer"),
            Role::Specialist => ("Chuyên viên xử lý", "Specialist"),
            Role::Leader => ("Lãnh đạo phê duyệt", "Leader"),
            Role::Postal => ("Nhân viên bưu chính", "Postal agent"),
            Role::Admin => ("Quản trị hệ thống", "Administrator"),
            Role::Viewer => ("Trung tâm điều hành (IOC)", "Operations centre viewer"),
        }
    }

    /// Whether users of this role work for an agency (and must name it).
    pub fn works_at_agency(self) -> bool {
        self.needs_agency()
    }

    /// Whether users of this role work for an agency (and must name it).
    pub fn needs_agency(self) -> bool {
        matches!(
            self,
            Role::Reception | Role::Specialist | Role::Leader | Role::Postal
        )
    }

    pub fn parse(s: &str) -> Result<Role, Error> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| {
                Error::field(
                    "role",
                    format!(
                        "Vai trò «{s}» không hợp lệ; chọn một trong: {}",
                        Role::ALL.map(Role::as_str).join(", ")
                    ),
                    format!(
                        "unknown role «{s}»; use one of: {}",
                        Role::ALL.map(Role::as_str).join(", ")
                    ),
                )
            })
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Role::parse(s)
    }
}

/// Checks a new password: long enough to resist guessing at a counter.
pub fn check_password(p: &str) -> Result<(), Error> {
    if p.chars().count() < 8 {
        return Err(Error::field(
            "password",
            "Mật khẩu phải có ít nhất 8 ký tự",
            "password must be at least 8 characters",
        ));
    }
    if p.len() > 1024 {
        return Err(Error::field(
            "password",
            "Mật khẩu quá dài",
            "password is too long",
        ));
    }
    if is_common_password(p) {
        return Err(Error::field(
            "password",
            "Mật khẩu này quá phổ biến, dễ bị đoán; hãy chọn mật khẩu khác",
            "this password is too common and easily guessed; choose another one",
        ));
    }
    Ok(())
}

/// Checks a new password and that it is not the account's own name or identifier.
pub fn check_new_password(p: &str, username: &str) -> Result<(), Error> {
    check_password(p)?;
    let fold = |s: &str| s.trim().to_lowercase();
    if !username.is_empty() && fold(p).contains(&fold(username)) {
        return Err(Error::field(
            "password",
            "Mật khẩu không được chứa tên đăng nhập hoặc số định danh",
            "the password must not contain the username or ID number",
        ));
    }
    Ok(())
}

const COMMON_PASSWORDS: &str = include_str!("../data/common_passwords.txt");

/// Whether `p` is one of the most common passwords (compared without case), a single repeated
/// character, or a run of consecutive digits or letters (`12345678`, `abcdefgh`, `87654321`).
pub fn is_common_password(p: &str) -> bool {
    let lower = p.to_lowercase();
    if COMMON_PASSWORDS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .any(|l| l.to_lowercase() == lower)
    {
        return true;
    }
    let chars: Vec<char> = lower.chars().collect();
    let all_same = chars.windows(2).all(|w| w[0] == w[1]);
    let run = |step: i32| {
        chars
            .windows(2)
            .all(|w| (w[1] as i32) - (w[0] as i32) == step && w[0].is_ascii_alphanumeric())
    };
    all_same || run(1) || run(-1)
}

/// Checks a username: 3–64 characters of letters, digits, `.`, `_`, `-`, `@`.
pub fn check_username(u: &str) -> Result<(), Error> {
    let ok = (3..=64).contains(&u.len())
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(Error::field(
            "username",
            "Tên đăng nhập gồm 3–64 ký tự chữ, số, dấu . _ - @",
            "username must be 3–64 letters, digits or . _ - @",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_passwords_are_refused() {
        for p in [
            "12345678",
            "Password123",
            "anhyeuem123",
            "MATKHAU123",
            "aaaaaaaaaa",
            "abcdefghij",
            "98765432",
        ] {
            assert!(check_password(p).is_err(), "{p} should be refused");
        }
        for p in ["motcua-demo", "mat-khau-thu-nghiem", "Ruộng lúa 2025 xanh"] {
            assert!(check_password(p).is_ok(), "{p} should be accepted");
        }
        assert!(check_new_password("xx079201001234yy", "079201001234").is_err());
        assert!(check_new_password("hoa-sen-nở-muộn", "079201001234").is_ok());
    }
}
