//! Every phone number, email and web address the bot can give is in docs/FACTS.md, the vetted
//! list: a wrong number is the worst bug this bot can have. The repository's copy must also be
//! the master's, when the master (../shared/FACTS.md) is beside the checkout.

mod support;

use support::content;

fn facts() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/FACTS.md");
    std::fs::read_to_string(path).expect("docs/FACTS.md is in the repository")
}

/// `url` as FACTS.md writes addresses: no scheme, no `www.`, no trailing slash.
fn bare(url: &str) -> &str {
    let url = url.strip_prefix("https://").unwrap_or(url);
    let url = url.strip_prefix("www.").unwrap_or(url);
    url.trim_end_matches('/')
}

#[test]
fn every_number_and_address_of_every_contact_is_in_the_vetted_facts() {
    let facts = facts();
    let mut missing = Vec::new();
    for contact in &content().contacts {
        let details = [&contact.phone, &contact.email, &contact.web]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .chain(contact.url.as_deref().map(bare));
        for detail in details {
            if !facts.contains(detail) {
                missing.push(format!("{}: {detail}", contact.id.value));
            }
        }
    }
    assert!(missing.is_empty(), "not in docs/FACTS.md: {missing:#?}");
}

#[test]
fn the_repository_copy_is_the_master_when_it_is_beside_the_checkout() {
    let master = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/FACTS.md");
    let Ok(master) = std::fs::read_to_string(master) else {
        return; // a clone on its own: nothing to compare with
    };
    let copy = facts();
    let (_, body) = copy.split_once('\n').expect("a first line, then the copy");
    assert_eq!(
        body.trim_end(),
        master.trim_end(),
        "docs/FACTS.md differs from ../shared/FACTS.md: copy the master again"
    );
}
