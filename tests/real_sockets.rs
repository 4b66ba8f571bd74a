//! The sending side and the checker over real loopback sockets against a served world: the
//! same code the in-memory runs use, with kernel sockets and the real clock underneath.

use mxlab_checker::probe::smtp::{SmtpResult, SmtpTimeouts};
use mxlab_checker::probe::{Mode, ProbeEnv, probe_domain};
use mxlab_harness::serve::{ServeOptions, Served};
use mxlab_net::{Clock, RealNetwork};
use mxlab_scenario::Scenario;
use mxlab_sim::{RecipientState, Sim};

async fn serve(name: &str) -> (Scenario, Served) {
    let scenario = mxlab_scenario::catalog::builtin(name).unwrap().unwrap();
    let options = ServeOptions {
        dns: "127.0.0.1:0".parse().unwrap(),
        smtp_port: 0,
        time_scale: 1.0,
        ..ServeOptions::default()
    };
    let served = Served::start(&scenario, &options).await.unwrap();
    (scenario, served)
}

/// The checker's probes from the scenario's sending address, against the served world.
fn probe_env<'a>(
    net: &'a RealNetwork,
    scenario: &Scenario,
    served: &Served,
    clock: Clock,
    smtp_port: u16,
) -> ProbeEnv<'a> {
    ProbeEnv {
        net,
        clock,
        dns_server: served.dns_addr,
        root_hints: Vec::new(),
        dns_timeout: std::time::Duration::from_secs(2),
        dns_attempts: 1,
        from_ip: scenario.sender_ip,
        helo: "checker.test".into(),
        mail_from: "checker@mycompany.test".into(),
        trust: None,
        smtp_port,
        smtp: SmtpTimeouts::default(),
        dnsbl_zones: Vec::new(),
        public_suffixes: Vec::new(),
        mode: Mode::Investigate,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_healthy_story_on_real_sockets() {
    let (scenario, served) = serve("healthy").await;
    let smtp = served.smtp_addr("mx1.partner.test").unwrap();
    assert_eq!(
        smtp.ip().to_string(),
        "127.0.0.10",
        "each host on its zone's address"
    );

    let net = RealNetwork::new();
    let clock = Clock::starting_now(scenario.file.start.0, 1.0);
    let out = Sim::new(&scenario, &net, clock.clone(), served.dns_addr)
        .with_smtp_port(smtp.port())
        .run(None)
        .await;
    assert!(
        matches!(out.recipients[0].state, RecipientState::Delivered { .. }),
        "{:?}",
        out.recipients
    );
    let (host, _) = &served.smtp[0];
    let captured = host.messages();
    assert_eq!(captured.len(), 1);
    assert_eq!(captured[0].rcpt_to, ["hanako@partner.test"]);

    let env = probe_env(&net, &scenario, &served, clock, smtp.port());
    let probe = probe_domain(&env, "partner.test", &["hanako@partner.test".into()]).await;
    assert_eq!(probe.smtp.len(), 1);
    let SmtpResult::Greeted { banner, steps } = &probe.smtp[0].result else {
        panic!("{:?}", probe.smtp)
    };
    assert_eq!(banner.code, 220);
    assert!(
        banner.first_text().starts_with("mx1.partner.test"),
        "{banner}"
    );
    let stages: Vec<String> = steps.iter().map(|s| s.step.to_string()).collect();
    assert_eq!(stages, ["ehlo", "mail", "rcpt", "data", "end-of-data"]);
    assert!(steps.iter().all(|s| s.outcome.positive()), "{steps:?}");
    // The probe's test message is the second one the host captured.
    assert_eq!(host.messages().len(), 2);
    served.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checker_sees_a_missing_mx_on_real_sockets() {
    let (scenario, served) = serve("missing-mx").await;
    let net = RealNetwork::new();
    let env = probe_env(
        &net,
        &scenario,
        &served,
        Clock::starting_now(scenario.file.start.0, 1.0),
        25,
    );
    // No notice, no log: only the complaint and the checker's own probes.
    let complaint = mxlab_checker::Complaint {
        recipients: vec!["sales@supplier.test".into()],
        sender: "taro@mycompany.test".into(),
    };
    let diagnosis = mxlab_checker::investigate(&Default::default(), &complaint, &env).await;
    assert_eq!(diagnosis.verdict, mxlab_vocab::RuleId::DnsMxMissing);
    assert_eq!(
        diagnosis.recipients[0].rule,
        mxlab_vocab::RuleId::DnsMxMissing
    );
}
