//! A pipeline wired by hand with plain SDK calls, the way the seed's
//! program builds one, for the tests that adopt it: a bucket with data, a
//! role Lambda may assume with an inline `s3:GetObject` policy, a
//! python3.12 function of 512 MB / 60 s, an S3 invoke permission naming
//! the bucket (SourceArn only), and one notification on a prefix and a
//! suffix with a hand-chosen id. Or, [`HandWired::through_queue`], the
//! bucket notifies a queue (whose policy lets S3 send for the bucket) that
//! an event source mapping drains into the function, and the role may
//! read the queue.

use anyhow::{Context, Result};

use crate::aws::{Aws, NewFunction, Notify};

/// The names and data of one hand-wired pipeline.
#[derive(Clone, Debug)]
pub struct HandWired {
    pub bucket: String,
    pub role: String,
    /// The role's IAM path (`/`, or `/service-role/` as the console makes
    /// execution roles).
    pub role_path: String,
    /// The role's inline policy (`s3:GetObject` on the bucket).
    pub policy: String,
    pub function: String,
    /// The invoke permission's statement id.
    pub sid: String,
    pub notification_id: String,
    pub prefix: String,
    pub suffix: String,
    /// Keys put into the bucket before anything else.
    pub objects: Vec<String>,
    /// The queue the bucket notifies instead of the function, when there
    /// is one, and the batch size of the mapping that drains it.
    pub queue: Option<(String, i32)>,
}

/// What wiring made that only AWS knows.
#[derive(Clone, Debug)]
pub struct Wired {
    pub role_arn: String,
    pub function_arn: String,
    pub code_sha256: String,
    /// The queue's ARN and the mapping's UUID, through a queue.
    pub queue: Option<(String, String)>,
}

impl HandWired {
    /// Bucket `<x>-data`, role `<x>-handler-role` with policy `read-data`,
    /// function `<x>-handler`, statement `s3-invoke`, notification
    /// `<x>-json-uploads` on `data/` + `.json`, and five objects, three
    /// under `data/` (two of them `.json`).
    pub fn named(x: &str) -> HandWired {
        HandWired {
            bucket: format!("{x}-data"),
            role: format!("{x}-handler-role"),
            role_path: "/".to_owned(),
            policy: "read-data".to_owned(),
            function: format!("{x}-handler"),
            sid: "s3-invoke".to_owned(),
            notification_id: format!("{x}-json-uploads"),
            prefix: "data/".to_owned(),
            suffix: ".json".to_owned(),
            objects: [
                "data/2026/a.json",
                "data/2026/b.json",
                "data/notes.txt",
                "other/c.json",
                "readme.txt",
            ]
            .map(str::to_owned)
            .to_vec(),
            queue: None,
        }
    }

    /// The same pipeline through a queue `<x>-uploads` drained in batches
    /// of 5 (the bucket's notification sends there; no invoke permission).
    pub fn through_queue(mut self) -> HandWired {
        let x = self.function.trim_end_matches("-handler").to_owned();
        self.queue = Some((format!("{x}-uploads"), 5));
        self
    }

    /// The same pipeline with another role name.
    pub fn role(mut self, name: &str) -> HandWired {
        self.role = name.to_owned();
        self
    }

    /// The same pipeline with its role under another IAM path.
    pub fn role_path(mut self, path: &str) -> HandWired {
        self.role_path = path.to_owned();
        self
    }

    pub fn bucket_arn(&self) -> String {
        format!("arn:aws:s3:::{}", self.bucket)
    }

    /// Makes every part with `zip` as the function's code.
    pub fn wire(&self, aws: &Aws, zip: &[u8]) -> Result<Wired> {
        aws.create_bucket(&self.bucket)?;
        for key in &self.objects {
            aws.put_object(&self.bucket, key, format!("{{\"key\":\"{key}\"}}"))?;
        }
        let role_arn =
            aws.create_service_role(&self.role, &self.role_path, "lambda.amazonaws.com")?;
        let mut statements = vec![serde_json::json!({
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": format!("{}/*", self.bucket_arn())
        })];
        let queue_arn = self
            .queue
            .as_ref()
            .map(|(name, _)| format!("arn:aws:sqs:{}:123456789012:{name}", crate::aws::REGION));
        if let Some(arn) = &queue_arn {
            statements.push(serde_json::json!({
                "Effect": "Allow",
                "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                "Resource": arn
            }));
        }
        let read = serde_json::json!({ "Version": "2012-10-17", "Statement": statements });
        aws.put_role_policy(&self.role, &self.policy, &read.to_string())?;
        let (function_arn, code_sha256) = aws.create_function(&NewFunction {
            name: &self.function,
            role_arn: &role_arn,
            runtime: "python3.12",
            handler: "app.handler",
            memory_mb: 512,
            timeout_s: 60,
            zip,
        })?;
        let queue = match (&self.queue, queue_arn) {
            (Some((name, batch)), Some(arn)) => {
                let mapping = self.wire_queue(aws, name, &arn, *batch)?;
                Some((arn, mapping))
            }
            _ => {
                aws.add_s3_invoke_permission(&self.function, &self.sid, &self.bucket_arn())?;
                aws.put_notification(
                    &self.bucket,
                    &self.notification_id,
                    Notify::Function(&function_arn),
                    &["s3:ObjectCreated:*"],
                    &self.prefix,
                    &self.suffix,
                )
                .with_context(|| format!("wiring {} by hand", self.function))?;
                None
            }
        };
        Ok(Wired {
            role_arn,
            function_arn,
            code_sha256,
            queue,
        })
    }

    /// The queue S3 may send to for the bucket, its mapping to the function
    /// (returns the mapping's UUID), and the bucket's notification to it.
    fn wire_queue(&self, aws: &Aws, name: &str, arn: &str, batch: i32) -> Result<String> {
        aws.create_queue(name)?;
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "s3-sends",
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": arn,
                "Condition": {"ArnLike": {"aws:SourceArn": self.bucket_arn()}}
            }]
        });
        aws.set_queue_policy(name, &policy.to_string())?;
        let mapping = aws.create_queue_mapping(arn, &self.function, batch)?;
        aws.put_notification(
            &self.bucket,
            &self.notification_id,
            Notify::Queue(arn),
            &["s3:ObjectCreated:*"],
            &self.prefix,
            &self.suffix,
        )
        .with_context(|| format!("wiring {} by hand through {name}", self.function))?;
        Ok(mapping)
    }
}
