//! What a test in another project does with mxlab: start a scenario's world in-process on free
//! loopback ports, deliver one message to its MX with an ordinary SMTP client (mail-send), and
//! look at what the fake host captured and at the session's transcript.
//!
//! ```sh
//! cargo run -p mxlab-harness --example send_and_inspect
//! ```

use std::time::{Duration, Instant};

use mail_send::SmtpClientBuilder;
use mail_send::mail_builder::MessageBuilder;
use mxlab_harness::serve::{ServeOptions, Served};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scenario = mxlab_scenario::catalog::builtin("healthy").ok_or("no healthy scenario")??;
    let options = ServeOptions {
        dns: "127.0.0.1:0".parse()?, // port 0: any free port
        smtp_port: 0,
        ..ServeOptions::default()
    };
    let served = Served::start(&scenario, &options).await?;
    for line in served.listener_lines() {
        println!("{line}");
    }
    let mx = served
        .smtp_addr("mx1.partner.test")
        .ok_or("the scenario has no mx1.partner.test")?;

    // Date and Message-ID set here: mail-builder would take them from the clock and the
    // machine's name, and the captured message would differ from run to run.
    let message = MessageBuilder::new()
        .from(("Taro", "taro@mycompany.test"))
        .to(("Hanako", "hanako@partner.test"))
        .subject("Lunch on Friday?")
        .date(1_715_197_200i64)
        .message_id("lunch.1@mycompany.test")
        .text_body("Noon at the usual place?");
    let mut client = SmtpClientBuilder::new(mx.ip().to_string(), mx.port())?
        .implicit_tls(false)
        .helo_host("srv01.mycompany.test")
        .timeout(Duration::from_secs(10))
        .connect_plain()
        .await?;
    let reply = client.send(message).await?;
    let [a, b, c] = reply.esc;
    println!(
        "\nthe MX answered: {} {a}.{b}.{c} {}",
        reply.code, reply.message
    );
    client.quit().await?;

    let host = served
        .host("mx1.partner.test")
        .ok_or("the scenario has no mx1.partner.test")?;
    for m in host.messages() {
        println!(
            "\ncaptured at +{:.3} s: MAIL FROM:<{}> RCPT TO:{:?}\n{}",
            m.at.as_secs_f64(),
            m.mail_from,
            m.rcpt_to,
            String::from_utf8_lossy(&m.data).replace("\r\n", "\n")
        );
    }

    // The host files a transcript when the session has ended, which can be a moment after
    // the client saw the reply to QUIT.
    let waited = Instant::now();
    while host.transcripts().is_empty() && waited.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for transcript in host.transcripts() {
        println!("transcript, {} ← {}:", transcript.host, transcript.client);
        for line in transcript.lines {
            println!(
                "  +{:.3} s {} {}",
                line.at.as_secs_f64(),
                line.who,
                line.text
            );
        }
    }
    served.shutdown().await;
    Ok(())
}
