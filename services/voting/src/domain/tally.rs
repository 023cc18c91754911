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

    /// The choices with the most votes: one, or every choice tied at the top (a joint win). None
    /// when nobody voted: a ballot without votes has no winner.
    pub fn winners(&self) -> Vec<&ChoiceCount> {
        let top = self.choices.iter().map(|c| c.votes).max().unwrap_or(0);
        if top == 0 {
            return Vec::new();
        }
        self.choices.iter().filter(|c| c.votes == top).collect()
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

    fn tally(votes: &[(&str, u64)]) -> Tally {
        let counts = votes.iter().map(|(id, n)| ((*id).to_owned(), *n)).collect();
        Tally::new(
            votes
                .iter()
                .map(|(id, _)| ((*id).to_owned(), id.to_uppercase())),
            &counts,
        )
    }

    fn winner_ids(tally: &Tally) -> Vec<&str> {
        tally
            .winners()
            .iter()
            .map(|c| c.choice_id.as_str())
            .collect()
    }

    #[test]
    fn the_most_votes_win_and_a_tie_at_the_top_is_a_joint_win() {
        assert_eq!(winner_ids(&tally(&[("a", 4), ("b", 9), ("c", 2)])), ["b"]);
        assert_eq!(
            winner_ids(&tally(&[("a", 7), ("b", 3), ("c", 7)])),
            ["a", "c"]
        );
    }

    #[test]
    fn nobody_wins_a_ballot_without_votes() {
        assert!(tally(&[("a", 0), ("b", 0)]).winners().is_empty());
        assert!(tally(&[]).winners().is_empty());
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
