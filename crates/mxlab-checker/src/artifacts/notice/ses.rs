//! Amazon SES notifications mailed through SNS: not a MIME report but a JSON object in the
//! body (`{"notificationType":"Bounce","bounce":{"bouncedRecipients":[…]}}`, `Complaint`,
//! `Delivery`), each recipient with the action, status and diagnostic code a DSN would carry.

use serde_json::Value;

use super::{Kind, NoticeRecipient};

/// What an SES notification says: its kind and recipients.
pub struct Notification {
    pub kind: Kind,
    pub recipients: Vec<NoticeRecipient>,
    pub reporting_mta: Option<String>,
}

/// The notification in a text, when it has one.
pub fn read(text: &str) -> Option<Notification> {
    // A line longer than SMTP allows comes back split by the relaying MTA: "!", a line
    // break and a space where the split was.
    let text = text.replace("!\r\n ", "").replace("!\n ", "");
    // Raw SNS delivery: the notification is a JSON string inside the envelope's "Message".
    if let Some(at) = text.find("\"Message\"") {
        let envelope = text[..at].rfind('{').map(|open| &text[open..]);
        let message = envelope
            .and_then(|e| {
                serde_json::Deserializer::from_str(e)
                    .into_iter::<Value>()
                    .next()
            })
            .and_then(Result::ok)
            .and_then(|v| v.get("Message")?.as_str().map(str::to_string));
        if let Some(inner) = message.filter(|m| m.contains("\"notificationType\"")) {
            return read(&inner);
        }
    }
    let at = text.find("{\"notificationType\"")?;
    let value: Value = serde_json::Deserializer::from_str(&text[at..])
        .into_iter::<Value>()
        .next()?
        .ok()?;
    let str_of = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    let list = |v: Option<&Value>| v.and_then(Value::as_array).cloned().unwrap_or_default();
    match value.get("notificationType")?.as_str()? {
        "Bounce" => {
            let bounce = value.get("bounce")?;
            let transient = str_of(bounce, "bounceType").as_deref() == Some("Transient");
            let recipients = list(bounce.get("bouncedRecipients"))
                .iter()
                .take(super::MAX_RECIPIENTS)
                .filter_map(|r| {
                    Some(NoticeRecipient {
                        final_recipient: str_of(r, "emailAddress")?,
                        action: str_of(r, "action")
                            .unwrap_or_else(|| if transient { "delayed" } else { "failed" }.into())
                            .to_ascii_lowercase(),
                        status: str_of(r, "status").unwrap_or_default(),
                        diagnostic_code: str_of(r, "diagnosticCode")
                            .map(|d| super::strip_type(&d).to_string())
                            .unwrap_or_default(),
                        ..NoticeRecipient::default()
                    })
                })
                .collect();
            Some(Notification {
                kind: Kind::Delivery,
                recipients,
                reporting_mta: str_of(bounce, "reportingMTA")
                    .map(|m| super::strip_type(&m).to_string()),
            })
        }
        "Complaint" => Some(Notification {
            kind: Kind::Feedback,
            recipients: list(
                value
                    .get("complaint")
                    .and_then(|c| c.get("complainedRecipients")),
            )
            .iter()
            .filter_map(|r| str_of(r, "emailAddress"))
            .take(super::MAX_RECIPIENTS)
            .map(|final_recipient| NoticeRecipient {
                final_recipient,
                action: "delivered".into(),
                ..NoticeRecipient::default()
            })
            .collect(),
            reporting_mta: None,
        }),
        "Delivery" => {
            let delivery = value.get("delivery")?;
            let reply = str_of(delivery, "smtpResponse").unwrap_or_default();
            Some(Notification {
                kind: Kind::Delivery,
                recipients: list(delivery.get("recipients"))
                    .iter()
                    .filter_map(Value::as_str)
                    .take(super::MAX_RECIPIENTS)
                    .map(|a| NoticeRecipient {
                        final_recipient: a.to_string(),
                        action: "delivered".into(),
                        status: "2.0.0".into(),
                        diagnostic_code: reply.clone(),
                        ..NoticeRecipient::default()
                    })
                    .collect(),
                reporting_mta: str_of(delivery, "reportingMTA"),
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bounce_notification() {
        let text = r#"{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bouncedRecipients":[{"emailAddress":"bob@example.net","action":"failed","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}],"reportingMTA":"dsn; a1.smtp-out.example"},"mail":{}}"#;
        let n = read(&format!("SNS says:\n{text}\n--\nunsubscribe")).unwrap();
        assert_eq!(n.kind, Kind::Delivery);
        assert_eq!(n.recipients[0].final_recipient, "bob@example.net");
        assert_eq!(n.recipients[0].diagnostic_code, "550 5.1.1 user unknown");
        assert_eq!(n.reporting_mta.as_deref(), Some("a1.smtp-out.example"));
    }

    #[test]
    fn broken_json_is_no_notification() {
        assert!(read(r#"{"notificationType":"Bounce","bounce":{"#).is_none());
    }
}
