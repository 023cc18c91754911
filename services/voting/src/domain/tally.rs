//! How the votes of a ballot add up.

use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoiceCount {
    pub choice_id: String,
    pub label: String,
    pub votes: u64,
}

/// Every choice of a ballot in its position order, each with its votes, and the total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub choices: Vec<ChoiceCount>,
    pub total: u64,
}

impl Tally {
    /// Lists every choice, with 0 for those nobody chose: a choice missing from the results would
    /// read as "not on the ballot". Counts for ids not among `choices` are ignored (the database's
    /// foreign key makes them impossible).
    pub fn new(
        choices: impl IntoIterator<Item = (String, String)>,
        counts: &HashMap<String, u64>,
    ) -> Self {
        let choices: Vec<ChoiceCount> = choices
            .into_iter()
            .map(|(choice_id, label)| ChoiceCount {
                votes: counts.get(&choice_id).copied().unwrap_or(0),
                choice_id,
                label,
            })
            .collect();
        let total = choices.iter().map(|c| c.votes).sum();
        Self { choices, total }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn lists_unchosen_choices_with_zero() {
        let counts = HashMap::from([("b".to_owned(), 3), ("elsewhere".to_owned(), 9)]);
        let tally = Tally::new(
            [("a".into(), "A".into()), ("b".into(), "B".into())],
            &counts,
        );
        let votes: Vec<(&str, u64)> = tally
            .choices
            .iter()
            .map(|c| (c.choice_id.as_str(), c.votes))
            .collect();
        assert_eq!(votes, [("a", 0), ("b", 3)]);
        assert_eq!(tally.total, 3);
    }

    proptest! {
        #[test]
        fn the_total_is_the_sum_and_order_is_kept(votes in proptest::collection::vec(0u64..1_000, 0..50)) {
            let choices: Vec<(String, String)> =
                (0..votes.len()).map(|i| (format!("c{i}"), format!("Choice {i}"))).collect();
            let counts: HashMap<String, u64> =
                choices.iter().map(|(id, _)| id.clone()).zip(votes.iter().copied()).collect();
            let tally = Tally::new(choices.clone(), &counts);
            prop_assert_eq!(tally.total, votes.iter().sum::<u64>());
            let ids: Vec<&String> = tally.choices.iter().map(|c| &c.choice_id).collect();
            let expected: Vec<&String> = choices.iter().map(|(id, _)| id).collect();
            prop_assert_eq!(ids, expected);
        }
    }
}
