//! The habits docs/developing.md asks for that a test can hold: commit subjects of at most 72
//! characters since the rule was set.

use std::process::Command;

use crate::{assert_none, root};

/// The last commit before the rule: every commit after it keeps it.
const RULE_SET_AFTER: &str = "6d2aeb1";
/// The most characters in a commit's subject.
const MAX_SUBJECT: usize = 72;

#[test]
fn commit_subjects_are_at_most_72_characters() {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(root())
            .output()
            .expect("git runs")
    };
    // A shallow clone may not hold the commit the rule starts after: nothing to check then.
    if !git(&["cat-file", "-e", &format!("{RULE_SET_AFTER}^{{commit}}")])
        .status
        .success()
    {
        eprintln!("{RULE_SET_AFTER} is not in this clone's history; skipped");
        return;
    }
    let log = git(&["log", "--format=%h %s", &format!("{RULE_SET_AFTER}..HEAD")]);
    assert!(log.status.success(), "git log failed");
    let long: Vec<String> = String::from_utf8(log.stdout)
        .expect("UTF-8 subjects")
        .lines()
        .filter(|line| {
            line.split_once(' ')
                .is_some_and(|(_, s)| s.chars().count() > MAX_SUBJECT)
        })
        .map(str::to_owned)
        .collect();
    assert_none(
        long,
        &format!("commit subjects over {MAX_SUBJECT} characters"),
    );
}
