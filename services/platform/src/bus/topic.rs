//! AMQP topic matching (`*` is one word, `#` is zero or more), so the in-process bus routes exactly
//! as RabbitMQ's topic exchange does.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicPattern(Vec<String>);

impl TopicPattern {
    pub fn new(pattern: &str) -> Self {
        Self(pattern.split('.').map(str::to_owned).collect())
    }

    pub fn matches(&self, routing_key: &str) -> bool {
        let words: Vec<&str> = routing_key.split('.').collect();
        matches(&self.0, &words)
    }
}

fn matches(pattern: &[String], words: &[&str]) -> bool {
    match pattern.split_first() {
        None => words.is_empty(),
        Some((head, rest)) if head == "#" => {
            (0..=words.len()).any(|skip| matches(rest, &words[skip..]))
        }
        Some((head, rest)) => match words.split_first() {
            Some((word, remaining)) if head == "*" || head == word => matches(rest, remaining),
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn matches_like_a_topic_exchange() {
        let cases = [
            ("nomination.submitted.v1", "nomination.submitted.v1", true),
            ("nomination.*.v1", "nomination.submitted.v1", true),
            ("nomination.*", "nomination.submitted.v1", false),
            ("nomination.#", "nomination.submitted.v1", true),
            ("#", "anything.at.all", true),
            ("#.v1", "vote.cast.v1", true),
            ("*.cast.v1", "vote.cast.v1", true),
            ("vote.cast.v1", "vote.cast.v2", false),
            ("nomination.#.v1", "nomination.v1", true),
        ];
        for (pattern, key, expected) in cases {
            assert_eq!(
                TopicPattern::new(pattern).matches(key),
                expected,
                "{pattern} vs {key}"
            );
        }
    }

    proptest! {
        #[test]
        fn every_key_matches_itself_and_hash(key in "[a-z_]{1,8}(\\.[a-z_0-9]{1,8}){0,4}") {
            prop_assert!(TopicPattern::new(&key).matches(&key));
            prop_assert!(TopicPattern::new("#").matches(&key));
        }
    }
}
