//! The local stream reader behaves like Lambda's event source mapping: it resumes after its
//! checkpoint, and reads again what its consumer did not process. On DynamoDB Local's real stream.

use api_tests::{TestEnv, unique};
use aws_sdk_dynamodb::types::AttributeValue;
use infra::pipeline::{Outcome, Start, StreamReader};

async fn put(env: &TestEnv, name: &str) {
    let ddb = aws_sdk_dynamodb::Client::new(&env.config);
    ddb.put_item()
        .table_name(&env.db.table)
        .item("pk", AttributeValue::S(format!("TEST#{name}")))
        .item("sk", AttributeValue::S("TEST".into()))
        .send()
        .await
        .expect("put");
}

/// The keys of everything the next polls return, until `expected` records came (bounded: 30 s,
/// since the emulators' streams lag under the whole suite's load). The records may come over
/// several polls (LocalStack's stream, under load): a poll that brings fewer is processed
/// (settled done) before the next, as the reader expects a settle before each poll; the caller
/// settles the last one.
async fn read(stream: &mut StreamReader, expected: usize) -> (Vec<String>, Vec<String>) {
    let (mut keys, mut sequences) = (vec![], vec![]);
    for _ in 0..300 {
        let event = stream.poll().await.expect("poll");
        for record in event.records {
            let key = serde_json::to_value(&record.change.keys).expect("keys");
            keys.push(key["pk"]["S"].as_str().unwrap_or_default().to_string());
            sequences.push(record.change.sequence_number.clone().unwrap_or_default());
        }
        if keys.len() >= expected {
            break;
        }
        stream.settle(Outcome::Done).expect("settle");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    (keys, sequences)
}

fn checkpoint_file() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("{}.json", unique("checkpoint")))
}

#[tokio::test]
async fn a_restarted_reader_resumes_after_its_checkpoint() {
    let env = TestEnv::new().await;
    let store = checkpoint_file();
    put(&env, "before").await;
    let mut stream = StreamReader::open(&env.config, &env.db.table, Start::TrimHorizon, Some(store.clone())).await.expect("open");
    assert_eq!(read(&mut stream, 1).await.0, ["TEST#before"], "no checkpoint: from the oldest record");
    stream.settle(Outcome::Done).expect("settle");
    put(&env, "while-down").await;
    drop(stream);

    let mut restarted = StreamReader::open(&env.config, &env.db.table, Start::TrimHorizon, Some(store.clone())).await.expect("reopen");
    assert_eq!(read(&mut restarted, 1).await.0, ["TEST#while-down"], "what was processed is not read again; what came since is");
    let _ = std::fs::remove_file(store);
}

#[tokio::test]
async fn records_the_consumer_did_not_process_are_read_again() {
    let env = TestEnv::new().await;
    let store = checkpoint_file();
    let mut stream = StreamReader::open(&env.config, &env.db.table, Start::Latest, Some(store.clone())).await.expect("open");
    for name in ["a", "b", "c"] {
        put(&env, name).await;
    }
    let (keys, sequences) = read(&mut stream, 3).await;
    assert_eq!(keys, ["TEST#a", "TEST#b", "TEST#c"]);
    // The consumer reports b as its first failure (ReportBatchItemFailures).
    stream.settle(Outcome::FailedFrom(sequences[1].clone())).expect("settle");
    assert_eq!(read(&mut stream, 2).await.0, ["TEST#b", "TEST#c"]);
    stream.settle(Outcome::Failed).expect("settle");
    assert_eq!(read(&mut stream, 2).await.0, ["TEST#b", "TEST#c"], "a failed function: the whole batch again");
    stream.settle(Outcome::Done).expect("settle");
    put(&env, "d").await;
    assert_eq!(read(&mut stream, 1).await.0, ["TEST#d"]);
    let _ = std::fs::remove_file(store);
}

#[tokio::test]
async fn a_checkpoint_of_another_stream_is_ignored() {
    let env = TestEnv::new().await;
    let store = checkpoint_file();
    std::fs::write(&store, r#"{"stream_arn": "arn:aws:dynamodb:ddblocal:000000000000:table/gone/stream/x", "shards": {}}"#).expect("write");
    put(&env, "first").await;
    let mut stream = StreamReader::open(&env.config, &env.db.table, Start::TrimHorizon, Some(store.clone())).await.expect("open");
    assert_eq!(read(&mut stream, 1).await.0, ["TEST#first"]);
    let _ = std::fs::remove_file(store);
}
