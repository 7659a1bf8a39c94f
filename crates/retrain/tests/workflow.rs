//! A retraining run over the embedded parts (memory:// bus, SQLite, a file:// registry) on a
//! world whose fraud pattern moves: the champion learnt the old pattern; a run trained on the
//! new one beats it on the same holdout and is promoted. Re-running a finished run changes
//! nothing; a run killed in `train` restarts the task and never promotes a half-trained model;
//! a run that loses leaves the champion; an extract without labels stops at `validate`.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use common::{alias, workflow, world};
use fraudwatch_registry::{CHALLENGER, CHAMPION};
use fraudwatch_retrain::{Outcome, Task};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_challenger_that_learnt_the_new_pattern_is_promoted_once() {
    // The pattern moves on day 30; the run sees days 20–59.
    let w = world(60, 30, true, "").await;
    let old = alias(&w, CHAMPION).await.unwrap();
    let flow = workflow(&w);

    // Killed in `train`: the task was started and never ended, a partial file lies around.
    for task in [Task::Extract, Task::Validate] {
        flow.run("r1", Some(task)).await.unwrap();
    }
    w.store.begin_task("r1", "train").await.unwrap();
    std::fs::write(w.dir.join("r1/challenger.json.partial"), b"{\"half\":").unwrap();
    assert_eq!(alias(&w, CHAMPION).await.unwrap(), old);

    let Outcome::Done { promoted, outputs } = flow.run("r1", None).await.unwrap() else {
        panic!("the run failed")
    };
    let output = |t: Task| outputs.iter().find(|(x, _)| *x == t).unwrap().1.clone();
    let evaluated = output(Task::Evaluate);
    eprintln!("evaluate: {evaluated}\ncompare: {}", output(Task::Compare));
    assert!(promoted, "{outputs:?}");
    let new = alias(&w, CHAMPION).await.unwrap();
    assert_ne!(new, old);
    assert_eq!(alias(&w, CHALLENGER).await.unwrap(), new);
    let (a, b) = (
        evaluated["challenger"]["average_precision"]
            .as_f64()
            .unwrap(),
        evaluated["champion"]["average_precision"].as_f64().unwrap(),
    );
    assert!(
        a > b + 0.1,
        "challenger AP {a} against the champion's {b} on the same holdout"
    );
    assert_eq!(
        evaluated["challenger"]["rows"], evaluated["champion"]["rows"],
        "the same holdout"
    );
    // The bundle in shadow scored the live stream: reported beside the champion, same rows.
    let live = &evaluated["shadow"];
    let (shadow_ap, champion_ap) = (
        live["shadow"]["average_precision"].as_f64().unwrap(),
        live["champion"]["average_precision"].as_f64().unwrap(),
    );
    assert!(shadow_ap > champion_ap, "{live}");
    assert_eq!(live["shadow"]["rows"], live["champion"]["rows"]);
    let reasons = output(Task::Compare)["reasons"].to_string();
    assert!(reasons.contains("live, in shadow"), "{reasons}");
    let extracted = output(Task::Extract);
    assert_eq!(extracted["rows"], 40 * 300);
    assert!(extracted["labels_from_topic"].as_u64().unwrap() > 0);

    // Again, same run id: every task is a no-op, nothing moves.
    let again = flow.run("r1", None).await.unwrap();
    assert!(matches!(again, Outcome::Done { promoted: true, .. }));
    assert_eq!(alias(&w, CHAMPION).await.unwrap(), new);
    assert_eq!(w.registry.versions().await.unwrap().len(), 2);

    // A second run on the same data: the new champion is not beaten by its twin.
    let Outcome::Done { promoted, outputs } = flow.run("r2", None).await.unwrap() else {
        panic!("the second run failed")
    };
    assert!(!promoted, "{outputs:?}");
    assert_eq!(alias(&w, CHAMPION).await.unwrap(), new);
    let promote = &outputs.iter().find(|(t, _)| *t == Task::Promote).unwrap().1;
    assert!(
        promote["reasons"][0]
            .as_str()
            .unwrap()
            .contains("not enough gain"),
        "{promote}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extract_without_labels_stops_at_validate() {
    let w = world(60, 30, false, "").await;
    let old = alias(&w, CHAMPION).await;
    let flow = workflow(&w);
    let outcome = flow.run("r1", None).await.unwrap();
    assert_eq!(
        outcome,
        Outcome::Failed {
            task: Task::Validate,
            reason: "0 frauds among the training rows; at least 20 are needed".into()
        }
    );
    assert_eq!(alias(&w, CHAMPION).await, old);
    let tasks = w.store.run_tasks("r1").await.unwrap();
    let validate = tasks.iter().find(|t| t.task == "validate").unwrap();
    assert_eq!(validate.status, "failed");
    assert!(
        tasks.iter().all(|t| t.task != "train"),
        "nothing after the failure"
    );
    // A task alone, before the one it needs: refused, with what to do.
    let err = flow.run("r9", Some(Task::Train)).await.unwrap_err();
    assert!(
        err.to_string().contains("needs validate done first"),
        "{err}"
    );
}
