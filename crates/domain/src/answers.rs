//! Invitee answers (`responses`, keyed by question key) and the one rule that checks them
//! against an event type's questions. `POST /v1/bookings`, `PATCH /v1/bookings/{uid}`
//! (`responses` replaces the answers) and the public booking page all use it: the page words
//! the problems for its form, the API names them in a `validation_error`.
//!
//! An event type without questions takes `responses` as free-form data, as it always did.

use crate::booking::RawJson;
use crate::event_type::Question;
use crate::validate::{Email, FieldErrors, check_phone};
use std::collections::BTreeMap;

/// The longest text answer, in characters.
pub const MAX_ANSWER_CHARS: usize = 2000;

/// How a question is answered. Unknown kinds are answered as one line of text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuestionKind {
    Text,
    Textarea,
    Email,
    Phone,
    Number,
    Url,
    Checkbox,
}

impl QuestionKind {
    pub fn of(q: &Question) -> Self {
        match q.kind.as_str() {
            "textarea" | "long_text" | "multiline" => Self::Textarea,
            "email" => Self::Email,
            "phone" | "tel" => Self::Phone,
            "number" => Self::Number,
            "url" => Self::Url,
            "checkbox" | "boolean" => Self::Checkbox,
            _ => Self::Text,
        }
    }
}

/// One answer as sent. The domain reads text, ticks and numbers; any other JSON stays opaque.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseValue {
    Text(String),
    Bool(bool),
    /// A JSON number, as its JSON text.
    Number(String),
    Null,
    /// An array or object, as its JSON text.
    Json(RawJson),
}

/// Answers keyed by question key, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Responses(pub BTreeMap<String, ResponseValue>);

impl Responses {
    /// The `responses` object as JSON text (how a booking keeps it).
    pub fn to_json(&self) -> RawJson {
        let mut out = String::from("{");
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json_string(&mut out, k);
            out.push(':');
            match v {
                ResponseValue::Text(t) => json_string(&mut out, t),
                ResponseValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
                ResponseValue::Number(n) => out.push_str(n),
                ResponseValue::Null => out.push_str("null"),
                ResponseValue::Json(raw) => out.push_str(&raw.0),
            }
        }
        out.push('}');
        RawJson(out)
    }
}

/// Writes `s` as a JSON string.
pub(crate) fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Why one answer is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerProblem {
    /// A required question without an answer: absent, `null`, blank text or an unticked box.
    Missing,
    /// Not the type the question's kind takes (text for text kinds, `true`/`false` for a
    /// checkbox, a number or numeric text for a number).
    WrongType(QuestionKind),
    /// Text longer than [`MAX_ANSWER_CHARS`].
    TooLong,
    /// Text of the right type in the wrong form for the kind (e-mail, phone, number, URL).
    Malformed(QuestionKind),
}

impl AnswerProblem {
    /// The problem as a `validation_error` field message.
    pub fn message(self) -> String {
        match self {
            Self::Missing => "is required".into(),
            Self::WrongType(QuestionKind::Checkbox) => "must be true or false".into(),
            Self::WrongType(QuestionKind::Number) => "must be a number".into(),
            Self::WrongType(_) => "must be a string".into(),
            Self::TooLong => format!("must be at most {MAX_ANSWER_CHARS} characters"),
            Self::Malformed(QuestionKind::Email) => {
                "must be an e-mail address like name@example.com".into()
            }
            Self::Malformed(QuestionKind::Phone) => {
                "must be in international format: + followed by 7 to 15 digits".into()
            }
            Self::Malformed(QuestionKind::Url) => {
                "must be a web address starting with https:// or http://".into()
            }
            Self::Malformed(_) => "must be a number".into(),
        }
    }
}

/// The rule for the answer to `q` (`None`: not answered). A required checkbox must be ticked;
/// blank text counts as no answer.
pub fn check_answer(q: &Question, answer: Option<&ResponseValue>) -> Result<(), AnswerProblem> {
    let kind = QuestionKind::of(q);
    let missing = || {
        if q.required {
            Err(AnswerProblem::Missing)
        } else {
            Ok(())
        }
    };
    match answer {
        None | Some(ResponseValue::Null) => missing(),
        Some(ResponseValue::Bool(ticked)) => match kind {
            QuestionKind::Checkbox if *ticked => Ok(()),
            QuestionKind::Checkbox => missing(),
            _ => Err(AnswerProblem::WrongType(kind)),
        },
        Some(ResponseValue::Number(_)) => match kind {
            QuestionKind::Number => Ok(()),
            _ => Err(AnswerProblem::WrongType(kind)),
        },
        Some(ResponseValue::Json(_)) => Err(AnswerProblem::WrongType(kind)),
        Some(ResponseValue::Text(_)) if kind == QuestionKind::Checkbox => {
            Err(AnswerProblem::WrongType(kind))
        }
        Some(ResponseValue::Text(t)) => {
            let t = t.trim();
            if t.is_empty() {
                return missing();
            }
            if t.chars().count() > MAX_ANSWER_CHARS {
                return Err(AnswerProblem::TooLong);
            }
            let well_formed = match kind {
                QuestionKind::Email => Email::parse(t).is_ok(),
                QuestionKind::Number => t.parse::<f64>().is_ok_and(f64::is_finite),
                QuestionKind::Url => t.starts_with("https://") || t.starts_with("http://"),
                QuestionKind::Phone => check_phone(t).is_ok(),
                QuestionKind::Text | QuestionKind::Textarea | QuestionKind::Checkbox => true,
            };
            if well_formed {
                Ok(())
            } else {
                Err(AnswerProblem::Malformed(kind))
            }
        }
    }
}

/// Checks `responses` against `questions`, one error per failing key, named
/// `responses.<key>`: every question's answer ([`check_answer`]) and no answer to a key that
/// is not a question. Without questions, `responses` is free-form and nothing is checked.
pub fn check_responses(
    errors: &mut FieldErrors,
    questions: &[Question],
    responses: Option<&Responses>,
) {
    if questions.is_empty() {
        return;
    }
    let answers = responses.map(|r| &r.0);
    for q in questions {
        if let Err(p) = check_answer(q, answers.and_then(|a| a.get(&q.key))) {
            errors.push(format!("responses.{}", q.key), p.message());
        }
    }
    for key in answers.into_iter().flat_map(BTreeMap::keys) {
        if !questions.iter().any(|q| &q.key == key) {
            errors.push(
                format!("responses.{key}"),
                "is not a question of this event type",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::fixtures::question;

    fn text(s: &str) -> ResponseValue {
        ResponseValue::Text(s.into())
    }

    #[test]
    fn required_answers_must_be_given() {
        let q = question("company", "text", true);
        assert_eq!(check_answer(&q, None), Err(AnswerProblem::Missing));
        assert_eq!(
            check_answer(&q, Some(&ResponseValue::Null)),
            Err(AnswerProblem::Missing)
        );
        assert_eq!(
            check_answer(&q, Some(&text("  "))),
            Err(AnswerProblem::Missing)
        );
        assert_eq!(check_answer(&q, Some(&text("Acme"))), Ok(()));
        let optional = question("notes", "textarea", false);
        assert_eq!(check_answer(&optional, None), Ok(()));
        assert_eq!(check_answer(&optional, Some(&text(""))), Ok(()));
        let terms = question("terms", "checkbox", true);
        assert_eq!(
            check_answer(&terms, Some(&ResponseValue::Bool(false))),
            Err(AnswerProblem::Missing)
        );
        assert_eq!(
            check_answer(&terms, Some(&ResponseValue::Bool(true))),
            Ok(())
        );
    }

    #[test]
    fn answers_have_the_type_of_their_kind() {
        let n = question("n", "number", false);
        assert_eq!(
            check_answer(&n, Some(&ResponseValue::Number("3".into()))),
            Ok(())
        );
        assert_eq!(check_answer(&n, Some(&text("3.5"))), Ok(()));
        assert_eq!(
            check_answer(&n, Some(&text("three"))),
            Err(AnswerProblem::Malformed(QuestionKind::Number))
        );
        assert_eq!(
            check_answer(&n, Some(&ResponseValue::Bool(true))),
            Err(AnswerProblem::WrongType(QuestionKind::Number))
        );
        let t = question("t", "select", true);
        assert_eq!(
            check_answer(&t, Some(&ResponseValue::Number("1".into()))),
            Err(AnswerProblem::WrongType(QuestionKind::Text))
        );
        assert_eq!(
            check_answer(&t, Some(&ResponseValue::Json(RawJson("[1]".into())))),
            Err(AnswerProblem::WrongType(QuestionKind::Text))
        );
        let c = question("c", "boolean", false);
        assert_eq!(
            check_answer(&c, Some(&text("yes"))),
            Err(AnswerProblem::WrongType(QuestionKind::Checkbox))
        );
        for (kind, bad, good) in [
            ("email", "nope", "a@example.com"),
            ("phone", "030 123", "+49 30 1234567"),
            ("url", "ftp://x", "https://example.com"),
        ] {
            let q = question("q", kind, false);
            assert!(
                matches!(
                    check_answer(&q, Some(&text(bad))),
                    Err(AnswerProblem::Malformed(_))
                ),
                "{kind}"
            );
            assert_eq!(check_answer(&q, Some(&text(good))), Ok(()), "{kind}");
        }
        assert_eq!(
            check_answer(&t, Some(&text(&"x".repeat(MAX_ANSWER_CHARS + 1)))),
            Err(AnswerProblem::TooLong)
        );
    }

    #[test]
    fn responses_are_checked_key_by_key() {
        let questions = [
            question("company", "text", true),
            question("size", "number", false),
        ];
        let r = Responses(
            [
                ("size".to_string(), ResponseValue::Bool(true)),
                ("color".to_string(), text("red")),
            ]
            .into(),
        );
        let mut e = FieldErrors::default();
        check_responses(&mut e, &questions, Some(&r));
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            ["responses.company", "responses.size", "responses.color"]
        );
        let mut free = FieldErrors::default();
        check_responses(&mut free, &[], Some(&r));
        assert!(free.is_empty(), "no questions: free-form");
    }

    #[test]
    fn responses_encode_as_a_json_object() {
        let r = Responses(
            [
                ("a".to_string(), text("x\"\n\u{1}")),
                ("b".to_string(), ResponseValue::Bool(false)),
                ("c".to_string(), ResponseValue::Number("1.5".into())),
                ("d".to_string(), ResponseValue::Null),
                (
                    "e".to_string(),
                    ResponseValue::Json(RawJson("[1,{}]".into())),
                ),
            ]
            .into(),
        );
        assert_eq!(
            r.to_json().0,
            r#"{"a":"x\"\n\u0001","b":false,"c":1.5,"d":null,"e":[1,{}]}"#
        );
    }
}
