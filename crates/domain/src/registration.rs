//! The public registration form: parsed once into a [`Registration`], or a list of per-field
//! errors that say exactly what is wrong, so the page can show each message next to its field.

use crate::coded_enum;
use crate::ids::{IdError, Npi, Tin};
use std::collections::BTreeMap;

coded_enum!(
    /// What the person does at the office (decides the role they are offered once verified).
    OfficeRole {
        FrontDesk = ("front_desk", "Front desk / eligibility"),
        Billing = ("billing", "Billing and claims"),
        Referrals = ("referrals", "Referrals and authorizations"),
        OfficeManager = ("office_manager", "Office manager (administrator)"),
        Clinician = ("clinician", "Physician or clinician"),
    }
);

impl OfficeRole {
    /// The portal role a verified person of this office role gets: the office manager becomes
    /// the office's administrator, everyone else an office user (claims come separately).
    pub fn portal_role(self) -> crate::account::Role {
        match self {
            OfficeRole::OfficeManager => crate::account::Role::OfficeAdmin,
            _ => crate::account::Role::OfficeUser,
        }
    }
}

coded_enum!(
    /// What the registration asks for: portal access, or the separate claims-inquiry entitlement.
    RequestKind {
        Access = ("access", "Portal access"),
        Claims = ("claims", "Claims inquiry"),
        /// A billing-service user asks to act for one more TIN; each TIN is granted separately.
        Tin = ("tin", "Act for a TIN"),
    }
);

coded_enum!(
    /// A request in the plan's verification queue.
    RegistrationStatus {
        Pending = ("pending", "Pending verification"),
        Approved = ("approved", "Approved"),
        Denied = ("denied", "Denied"),
    }
);

/// The form as typed, every field a string.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RegistrationForm {
    pub name: String,
    pub email: String,
    pub phone: String,
    pub npi: String,
    pub tin: String,
    pub office_name: String,
    pub role: String,
}

/// A well-formed request. Whether the plan knows the NPI under that TIN is checked against the
/// provider records by the caller (see [`mismatch_message`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub name: String,
    pub email: String,
    /// Ten digits.
    pub phone: String,
    pub npi: Npi,
    pub tin: Tin,
    pub office_name: String,
    pub role: OfficeRole,
}

/// Field name -> message, in form order for display.
pub type FieldErrors = BTreeMap<&'static str, String>;

fn id_message(what: &str, e: &IdError) -> String {
    format!("{what}: {e}")
}

impl RegistrationForm {
    pub fn parse(&self) -> Result<Registration, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = self.name.trim();
        if name.chars().count() < 2 {
            errors.insert("name", "Enter your full name.".into());
        } else if name.chars().count() > 100 {
            errors.insert("name", "Use at most 100 characters.".into());
        }
        let email = self.email.trim().to_ascii_lowercase();
        let email_ok = email.len() <= 254
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            })
            && !email.contains(char::is_whitespace);
        if !email_ok {
            errors.insert(
                "email",
                "Enter your work email, like name@yourpractice.org.".into(),
            );
        }
        let phone: String = self.phone.chars().filter(char::is_ascii_digit).collect();
        let phone = phone
            .strip_prefix('1')
            .filter(|p| p.len() == 10)
            .map(str::to_string)
            .unwrap_or(phone);
        if phone.len() != 10 {
            errors.insert(
                "phone",
                "Enter the office phone with area code: 10 digits, like (714) 555-0100.".into(),
            );
        }
        let npi = Npi::parse(&self.npi)
            .map_err(|e| errors.insert("npi", id_message("NPI", &e)))
            .ok();
        let tin = Tin::parse(&self.tin)
            .map_err(|e| errors.insert("tin", id_message("TIN", &e)))
            .ok();
        let office_name = self.office_name.trim();
        if office_name.len() < 2 {
            errors.insert(
                "office_name",
                "Enter the office or group name as it appears on your contract.".into(),
            );
        }
        let role = OfficeRole::from_code(self.role.trim());
        if role.is_none() {
            errors.insert("role", "Choose what you do at the office.".into());
        }
        match (npi, tin, role) {
            (Some(npi), Some(tin), Some(role)) if errors.is_empty() => Ok(Registration {
                name: name.to_string(),
                email,
                phone,
                npi,
                tin,
                office_name: office_name.to_string(),
                role,
            }),
            _ => Err(errors),
        }
    }
}

/// The message when the plan's records do not match: `known_tin` is the TIN the plan has for the
/// NPI, or `None` when the NPI is not in the plan's network at all.
pub fn mismatch_message(
    npi: &Npi,
    tin: &Tin,
    known_tin: Option<&Tin>,
) -> Option<(&'static str, String)> {
    match known_tin {
        None => Some((
            "npi",
            format!(
                "NPI {npi} is not in the plan's provider network. Check the number, or contact Provider Relations to enrol."
            ),
        )),
        Some(k) if k != tin => Some((
            "tin",
            format!(
                "NPI {npi} is not registered with the plan under TIN {tin}. Use the TIN the plan pays this provider under."
            ),
        )),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> RegistrationForm {
        RegistrationForm {
            name: "Linh Tran".into(),
            email: "Linh@IrvineFM.org ".into(),
            phone: "(714) 555-0100".into(),
            npi: "1234567893".into(),
            tin: "95-1234567".into(),
            office_name: "Irvine Family Medicine".into(),
            role: "front_desk".into(),
        }
    }

    #[test]
    fn a_good_form_parses() {
        let r = form().parse().unwrap();
        assert_eq!(r.email, "linh@irvinefm.org");
        assert_eq!(r.phone, "7145550100");
        assert_eq!(r.role, OfficeRole::FrontDesk);
    }

    #[test]
    fn each_bad_field_gets_its_own_message() {
        let f = RegistrationForm {
            npi: "1234567890".into(),
            tin: "95-12345".into(),
            email: "nope".into(),
            phone: "555".into(),
            role: "boss".into(),
            ..form()
        };
        let e = f.parse().unwrap_err();
        assert!(e["npi"].contains("check digit"), "{}", e["npi"]);
        assert!(e["tin"].contains("9 digits"), "{}", e["tin"]);
        assert!(e.contains_key("email") && e.contains_key("phone") && e.contains_key("role"));
        assert!(!e.contains_key("name"));
    }

    #[test]
    fn npi_tin_mismatch_names_the_field() {
        let npi = Npi::parse("1234567893").unwrap();
        let tin = Tin::parse("951234567").unwrap();
        let other = Tin::parse("951234568").unwrap();
        assert_eq!(mismatch_message(&npi, &tin, Some(&tin)), None);
        assert_eq!(mismatch_message(&npi, &tin, Some(&other)).unwrap().0, "tin");
        assert_eq!(mismatch_message(&npi, &tin, None).unwrap().0, "npi");
    }
}
