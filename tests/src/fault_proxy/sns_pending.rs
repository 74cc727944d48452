//! SNS email subscriptions as AWS keeps them: pending until the address's
//! owner follows the link SNS mails, and listed by
//! `ListSubscriptionsByTopic` with `PendingConfirmation` where a confirmed
//! one has its ARN (such a subscription cannot be unsubscribed). moto 5.2.5
//! confirms an email subscription at once. The proxy writes the pending
//! marker into the list, so nothing the provider reads is confirmed.

/// What SNS lists instead of the ARN of a subscription not confirmed yet.
const PENDING: &str = "PendingConfirmation";

/// The `ListSubscriptionsByTopic` answer (XML) with every email
/// subscription's ARN replaced by [`PENDING`]; `None` when it has none.
pub(super) fn pending_emails(body: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(body).ok()?;
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut rest = text;
    while let Some(start) = rest.find("<member>") {
        let end = rest[start..].find("</member>")? + start + "</member>".len();
        out.push_str(&rest[..start]);
        let member = &rest[start..end];
        if member.contains("<Protocol>email</Protocol>") {
            let (a, b) = (
                member.find("<SubscriptionArn>")? + "<SubscriptionArn>".len(),
                member.find("</SubscriptionArn>")?,
            );
            out.push_str(&member[..a]);
            out.push_str(PENDING);
            out.push_str(&member[b..]);
            changed |= &member[a..b] != PENDING;
        } else {
            out.push_str(member);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    changed.then(|| out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_subscriptions_are_listed_pending_and_others_kept() {
        let body = "<ListSubscriptionsByTopicResponse><ListSubscriptionsByTopicResult>\
            <Subscriptions><member><TopicArn>t</TopicArn><Protocol>email</Protocol>\
            <SubscriptionArn>arn:aws:sns:us-east-1:1:t:abc</SubscriptionArn>\
            <Endpoint>a@example.com</Endpoint></member><member><TopicArn>t</TopicArn>\
            <Protocol>sqs</Protocol><SubscriptionArn>arn:aws:sns:us-east-1:1:t:def\
            </SubscriptionArn><Endpoint>q</Endpoint></member></Subscriptions>\
            </ListSubscriptionsByTopicResult></ListSubscriptionsByTopicResponse>";
        let fixed = String::from_utf8(pending_emails(body.as_bytes()).unwrap()).unwrap();
        assert!(
            fixed.contains("<SubscriptionArn>PendingConfirmation</SubscriptionArn>"),
            "{fixed}"
        );
        assert!(
            fixed.contains("<Endpoint>a@example.com</Endpoint>"),
            "{fixed}"
        );
        assert!(fixed.contains(":t:def"), "{fixed}");
        assert!(!fixed.contains(":t:abc"), "{fixed}");
        assert_eq!(pending_emails(fixed.as_bytes()), None);
        assert_eq!(pending_emails(b"<Subscriptions/>"), None);
    }
}
