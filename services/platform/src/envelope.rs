//! The event envelope: identity, type, origin, tenant and causality of an event around its prost
//! payload. Every event travels in one, on RabbitMQ (as message properties and headers) and in-process.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use valued_proto::events::Event;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// UUIDv7: unique, and ordered by creation time.
    pub id: Uuid,
    /// The event type, which is also the routing key, e.g. `nomination.submitted.v1`.
    pub event_type: String,
    /// The service that published it.
    pub source: String,
    pub occurred_at: DateTime<Utc>,
    /// The trust (ODS code) the event belongs to, when it belongs to one.
    pub tenant: Option<String>,
    /// Shared by every event that follows from one user action.
    pub correlation_id: Uuid,
    /// The event that caused this one, if any.
    pub causation_id: Option<Uuid>,
    /// W3C trace context of the span that published the event.
    pub traceparent: Option<String>,
    #[serde(skip)]
    pub payload: Vec<u8>,
}

/// The envelope's metadata, as kept in an outbox row beside the payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnvelopeHeaders {
    pub source: String,
    pub occurred_at: DateTime<Utc>,
    pub tenant: Option<String>,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    pub traceparent: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    #[error("event {id} has type {actual}, expected {expected}")]
    WrongType {
        id: Uuid,
        expected: &'static str,
        actual: String,
    },
    #[error("event {id} has a payload that does not decode as {expected}: {source}")]
    Decode {
        id: Uuid,
        expected: &'static str,
        source: prost::DecodeError,
    },
    #[error("message is missing {0}")]
    Missing(&'static str),
    #[error("message has an invalid {0}")]
    Invalid(&'static str),
}

impl Envelope {
    /// A new event caused by a user action (starts a correlation).
    pub fn new<E: Event>(source: &str, tenant: Option<&str>, payload: &E) -> Self {
        let id = Uuid::now_v7();
        Self {
            id,
            event_type: E::TYPE.to_owned(),
            source: source.to_owned(),
            occurred_at: Utc::now(),
            tenant: tenant.map(str::to_owned),
            correlation_id: id,
            causation_id: None,
            traceparent: crate::telemetry::current_traceparent(),
            payload: payload.encode_to_vec(),
        }
    }

    /// A new event caused by `cause` (keeps its correlation and tenant).
    pub fn caused_by<E: Event>(source: &str, cause: &Envelope, payload: &E) -> Self {
        let mut envelope = Self::new(source, cause.tenant.as_deref(), payload);
        envelope.correlation_id = cause.correlation_id;
        envelope.causation_id = Some(cause.id);
        envelope
    }

    /// Decodes the payload, checking that the envelope carries `E`.
    pub fn decode<E: Event>(&self) -> Result<E, EnvelopeError> {
        if self.event_type != E::TYPE {
            return Err(EnvelopeError::WrongType {
                id: self.id,
                expected: E::TYPE,
                actual: self.event_type.clone(),
            });
        }
        E::decode(self.payload.as_slice()).map_err(|source| EnvelopeError::Decode {
            id: self.id,
            expected: E::TYPE,
            source,
        })
    }

    pub fn routing_key(&self) -> &str {
        &self.event_type
    }

    pub fn headers(&self) -> EnvelopeHeaders {
        EnvelopeHeaders {
            source: self.source.clone(),
            occurred_at: self.occurred_at,
            tenant: self.tenant.clone(),
            correlation_id: self.correlation_id,
            causation_id: self.causation_id,
            traceparent: self.traceparent.clone(),
        }
    }

    pub fn from_parts(
        id: Uuid,
        event_type: String,
        headers: EnvelopeHeaders,
        payload: Vec<u8>,
    ) -> Self {
        Self {
            id,
            event_type,
            source: headers.source,
            occurred_at: headers.occurred_at,
            tenant: headers.tenant,
            correlation_id: headers.correlation_id,
            causation_id: headers.causation_id,
            traceparent: headers.traceparent,
            payload,
        }
    }
}

#[cfg(test)]
mod tests {
    use valued_proto::events::v1::{NominationSubmitted, VoteCast};

    use super::*;

    #[test]
    fn a_payload_round_trips_and_its_type_is_checked() {
        let payload = NominationSubmitted {
            nominee_name: "Sam Patel".into(),
            ..Default::default()
        };
        let envelope = Envelope::new("nomination", Some("RJ1"), &payload);
        assert_eq!(envelope.routing_key(), "nomination.submitted.v1");
        assert_eq!(envelope.decode::<NominationSubmitted>().ok(), Some(payload));
        assert!(matches!(
            envelope.decode::<VoteCast>(),
            Err(EnvelopeError::WrongType { .. })
        ));
    }

    #[test]
    fn a_caused_event_keeps_the_correlation() {
        let cause = Envelope::new("nomination", Some("RJ1"), &NominationSubmitted::default());
        let effect = Envelope::caused_by("notification", &cause, &VoteCast::default());
        assert_eq!(effect.correlation_id, cause.id);
        assert_eq!(effect.causation_id, Some(cause.id));
        assert_eq!(effect.tenant.as_deref(), Some("RJ1"));
        assert_ne!(effect.id, cause.id);
    }
}
