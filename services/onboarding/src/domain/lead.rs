//! A sales lead from the public form, parsed field by field (each failure names its field).

use onramp_kit::mail::address::{self, AddressError};

use crate::error::OnboardingError;

/// A validated sales lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesLead {
    /// Trimmed, 1–100 characters, no control characters.
    pub full_name: String,
    /// Trimmed, lowercased work email.
    pub email: String,
    /// Trimmed, 1–200 characters.
    pub company: String,
    /// `solo`, `small`, …, or `unspecified`.
    pub company_size: &'static str,
    /// Optional phone: digits, spaces and + ( ) - . only, at most 32 characters.
    pub phone: String,
    /// Optional message, at most 2000 characters.
    pub message: String,
    /// Optional source path, at most 200 characters.
    pub source: String,
}

/// The raw form, as received.
#[derive(Debug, Clone, Default)]
pub struct LeadForm<'a> {
    pub full_name: &'a str,
    pub email: &'a str,
    pub company: &'a str,
    pub company_size: &'static str,
    pub phone: &'a str,
    pub message: &'a str,
    pub source: &'a str,
}

impl SalesLead {
    /// Parses the form; the first bad field is named in the error.
    pub fn parse(form: LeadForm<'_>) -> Result<Self, OnboardingError> {
        Ok(Self {
            full_name: text("full_name", form.full_name, 1, 100)?,
            email: email(form.email)?,
            company: text("company", form.company, 1, 200)?,
            company_size: form.company_size,
            phone: phone(form.phone)?,
            message: text("message", form.message, 0, 2000)?,
            source: text("source", form.source, 0, 200)?,
        })
    }
}

/// Trimmed text of `min..=max` characters without control characters (newlines allowed only in the
/// free-text message).
fn text(field: &str, raw: &str, min: usize, max: usize) -> Result<String, OnboardingError> {
    let value = raw.trim();
    let length = value.chars().count();
    if length < min {
        return Err(OnboardingError::invalid(field, "is required"));
    }
    if length > max {
        return Err(OnboardingError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    let allowed = |c: char| !c.is_control() || (field == "message" && (c == '\n' || c == '\r'));
    if !value.chars().all(allowed) {
        return Err(OnboardingError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_owned())
}

/// An address as every context accepts it (`onramp_kit::mail::address`).
pub fn email(raw: &str) -> Result<String, OnboardingError> {
    address::normalise(raw).map_err(|error| match error {
        AddressError::Empty => OnboardingError::invalid("email", "is required"),
        AddressError::TooLong | AddressError::Malformed => {
            OnboardingError::invalid("email", "must be a valid email address")
        }
    })
}

fn phone(raw: &str) -> Result<String, OnboardingError> {
    let value = raw.trim();
    let allowed = |c: char| c.is_ascii_digit() || " +()-.".contains(c);
    if value.len() > 32 || !value.chars().all(allowed) {
        return Err(OnboardingError::invalid(
            "phone",
            "must be at most 32 digits, spaces and + ( ) - .",
        ));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> LeadForm<'static> {
        LeadForm {
            full_name: " Ada Lovelace ",
            email: " Ada@Example.COM ",
            company: "Analytical Engines",
            company_size: "small",
            ..LeadForm::default()
        }
    }

    fn field_of(error: OnboardingError) -> String {
        match error {
            OnboardingError::Invalid { field, .. } => field,
            other => panic!("not a validation error: {other}"),
        }
    }

    #[test]
    fn a_good_form_is_trimmed_and_lowercased() {
        let lead = SalesLead::parse(form()).expect("valid");
        assert_eq!(lead.full_name, "Ada Lovelace");
        assert_eq!(lead.email, "ada@example.com");
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases: Vec<(LeadForm<'static>, &str)> = vec![
            (
                LeadForm {
                    full_name: "  ",
                    ..form()
                },
                "full_name",
            ),
            (
                LeadForm {
                    full_name: "a\u{7}b",
                    ..form()
                },
                "full_name",
            ),
            (
                LeadForm {
                    email: "nope",
                    ..form()
                },
                "email",
            ),
            (
                LeadForm {
                    email: "a@b",
                    ..form()
                },
                "email",
            ),
            (
                LeadForm {
                    email: "a b@c.de",
                    ..form()
                },
                "email",
            ),
            (
                LeadForm {
                    company: "",
                    ..form()
                },
                "company",
            ),
            (
                LeadForm {
                    phone: "call me",
                    ..form()
                },
                "phone",
            ),
        ];
        for (bad, field) in cases {
            let error = SalesLead::parse(bad).expect_err(field);
            assert_eq!(field_of(error), field);
        }
        let long = "x".repeat(2001);
        let error = SalesLead::parse(LeadForm {
            message: &long,
            ..form()
        })
        .expect_err("long");
        assert_eq!(field_of(error), "message");
    }
}
