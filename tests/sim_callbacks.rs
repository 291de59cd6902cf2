//! The simulator calls the seller's callback URL as eMAG does (issue 20): a new order at once
//! and again until acknowledged, a cancellation, the kinds configured; stats count them.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use magflow_emag::sim::{CallbackKind, SimConfig, Simulator};
use magflow_emag::{BlockingClient, ClientConfig, Credentials};

/// A loopback HTTP receiver recording each request's path and query, answering 200.
struct Receiver {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/emag/callback?token=s3cret",
            listener.local_addr().unwrap()
        );
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                let mut line = String::new();
                while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
                    line.clear();
                }
                if let Some(target) = request_line.split_whitespace().nth(1) {
                    log.lock().unwrap().push(target.to_owned());
                }
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
            }
        });
        Receiver { url, seen }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    fn wait_for(&self, what: impl Fn(&[String]) -> bool) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let seen = self.seen();
            if what(&seen) || Instant::now() > deadline {
                return seen;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn sim(receiver: &Receiver, kinds: Vec<CallbackKind>) -> Simulator {
    Simulator::start(SimConfig {
        orders: 3,
        offers: 5,
        seed: 11,
        enforce_rate_limits: false,
        callback_url: Some(receiver.url.clone()),
        callback_kinds: kinds,
        callback_interval_seconds: 0.2,
        ..SimConfig::default()
    })
    .unwrap()
}

#[test]
fn a_new_order_is_announced_until_acknowledged() {
    let receiver = Receiver::start();
    let sim = sim(&receiver, CallbackKind::ALL.to_vec());
    let order = sim.new_order();
    let id = order["id"].as_u64().unwrap();
    assert_eq!(order["status"], 1);
    assert_eq!(order["type"], 3);
    assert_eq!(
        sim.order(id).unwrap()["status"],
        1,
        "readable through the API state"
    );
    let expected = format!("/emag/callback?token=s3cret&order_id={id}");
    let seen = receiver.wait_for(|s| s.iter().filter(|t| **t == expected).count() >= 2);
    assert!(
        seen.iter().filter(|t| **t == expected).count() >= 2,
        "repeated: {seen:?}"
    );

    let client = BlockingClient::new(
        ClientConfig::new(Credentials::new(sim.username(), sim.password()).unwrap())
            .with_base_url(sim.url())
            .without_rate_limit(),
    )
    .unwrap();
    client
        .run(|c| async move { c.orders().acknowledge(id).await })
        .unwrap();
    std::thread::sleep(Duration::from_millis(300)); // a repeat already queued may still land
    let after_ack = receiver.seen().len();
    std::thread::sleep(Duration::from_millis(1000)); // five intervals
    assert_eq!(
        receiver.seen().len(),
        after_ack,
        "no callback after the acknowledgement"
    );

    let stats = sim.stats();
    assert!(stats["callbacks_sent"].as_u64().unwrap() >= 2);
    assert_eq!(stats["callbacks_sent"], stats["callbacks_answered"]);
    assert_eq!(stats["callbacks_failed"], 0);
}

#[test]
fn cancellations_and_the_configured_kinds() {
    let receiver = Receiver::start();
    let sim = sim(&receiver, vec![CallbackKind::OrderCancellation]);
    let id = sim.new_order()["id"].as_u64().unwrap();
    assert!(sim.cancel_order(id, 15));
    assert!(!sim.cancel_order(1, 15), "no such order");
    let expected = format!("/emag/callback?token=s3cret&kind=order_cancellation&order_id={id}");
    let seen = receiver.wait_for(|s| !s.is_empty());
    assert_eq!(seen, vec![expected], "only the configured kind");
    assert_eq!(sim.order(id).unwrap()["status"], 0);
    assert_eq!(sim.order(id).unwrap()["reason_cancellation"], 15);
}

#[test]
fn an_unreachable_receiver_is_counted_failed() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sim = Simulator::start(SimConfig {
        callback_url: Some(format!("http://127.0.0.1:{port}/cb")),
        enforce_rate_limits: false,
        ..SimConfig::default()
    })
    .unwrap();
    sim.new_order();
    let deadline = Instant::now() + Duration::from_secs(10);
    while sim.stats()["callbacks_failed"] == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(sim.stats()["callbacks_failed"], 1);
    assert!(Simulator::start(SimConfig {
        callback_url: Some("not a url".into()),
        ..SimConfig::default()
    })
    .is_err());
}
