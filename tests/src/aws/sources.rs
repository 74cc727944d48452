//! What a pipeline reads from besides its bucket: Kinesis streams, SQS
//! queues and the Lambda event source mappings between them and functions.
//! Part of [`Aws`] and of its [`Inventory`](super::Inventory).

use std::collections::HashMap;
use std::fmt;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{StreamDescriptionSummary, StreamStatus};
use aws_sdk_lambda::types::EventSourceMappingConfiguration;
use aws_sdk_sqs::types::QueueAttributeName;

use super::{Aws, sdk};

/// Streams, queues and event source mappings, each list sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sources {
    pub streams: Vec<String>,
    /// Queue names (the last part of each URL).
    pub queues: Vec<String>,
    /// `<uuid> <source ARN> -> <function ARN>`.
    pub mappings: Vec<String>,
}

impl Sources {
    pub fn is_empty(&self) -> bool {
        self.streams.is_empty() && self.queues.is_empty() && self.mappings.is_empty()
    }
}

impl fmt::Display for Sources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "streams: {:?}", self.streams)?;
        writeln!(f, "queues: {:?}", self.queues)?;
        write!(f, "event source mappings: {:?}", self.mappings)
    }
}

impl Aws {
    pub fn kinesis(&self) -> &aws_sdk_kinesis::Client {
        &self.kinesis
    }

    /// Every stream, queue and event source mapping in the region.
    pub fn sources(&self) -> Result<Sources> {
        let mut streams = sdk(
            "ListStreams",
            self.block_on(self.kinesis.list_streams().send()),
        )?
        .stream_names()
        .to_vec();
        streams.sort();
        let mut queues: Vec<String> = self
            .queue_urls()?
            .iter()
            .filter_map(|u| u.rsplit('/').next().map(str::to_owned))
            .collect();
        queues.sort();
        let mut mappings: Vec<String> = self
            .event_source_mappings(None)?
            .iter()
            .map(|m| {
                format!(
                    "{} {} -> {}",
                    m.uuid().unwrap_or_default(),
                    m.event_source_arn().unwrap_or_default(),
                    m.function_arn().unwrap_or_default()
                )
            })
            .collect();
        mappings.sort();
        Ok(Sources {
            streams,
            queues,
            mappings,
        })
    }

    /// The event source mappings of `function` (every one with `None`).
    pub fn event_source_mappings(
        &self,
        function: Option<&str>,
    ) -> Result<Vec<EventSourceMappingConfiguration>> {
        let call = self
            .lambda
            .list_event_source_mappings()
            .set_function_name(function.map(str::to_owned))
            .send();
        let out = sdk("ListEventSourceMappings", self.block_on(call))?;
        Ok(out.event_source_mappings().to_vec())
    }

    /// Makes a stream with `shards` shards and waits until it is active;
    /// returns its ARN.
    pub fn create_stream(&self, name: &str, shards: i32) -> Result<String> {
        let call = self
            .kinesis
            .create_stream()
            .stream_name(name)
            .shard_count(shards)
            .send();
        sdk("CreateStream", self.block_on(call))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let s = self.stream_summary(name)?;
            if s.stream_status() == &StreamStatus::Active {
                return Ok(s.stream_arn().to_owned());
            }
            if Instant::now() > deadline {
                bail!("stream {name} did not become active");
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn stream_summary(&self, name: &str) -> Result<StreamDescriptionSummary> {
        let call = self.kinesis.describe_stream_summary().stream_name(name);
        let out = sdk("DescribeStreamSummary", self.block_on(call.send()))?;
        match out.stream_description_summary {
            Some(s) => Ok(s),
            None => bail!("DescribeStreamSummary({name}) returned no description"),
        }
    }

    pub fn stream_tags(&self, name: &str) -> Result<HashMap<String, String>> {
        let call = self.kinesis.list_tags_for_stream().stream_name(name);
        let out = sdk("ListTagsForStream", self.block_on(call.send()))?;
        Ok(out
            .tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().unwrap_or_default().to_owned()))
            .collect())
    }

    pub fn delete_stream(&self, name: &str) -> Result<()> {
        let call = self.kinesis.delete_stream().stream_name(name).send();
        sdk("DeleteStream", self.block_on(call)).map(drop)
    }

    /// Puts one record on the stream.
    pub fn put_record(&self, stream: &str, key: &str, data: &[u8]) -> Result<()> {
        let call = self
            .kinesis
            .put_record()
            .stream_name(stream)
            .partition_key(key)
            .data(Blob::new(data))
            .send();
        sdk("PutRecord", self.block_on(call)).map(drop)
    }

    /// The URL of queue `name`, or `None` when there is no such queue.
    pub fn queue_url(&self, name: &str) -> Result<Option<String>> {
        Ok(self
            .queue_urls()?
            .into_iter()
            .find(|u| u.rsplit('/').next() == Some(name)))
    }

    /// Every attribute of the queue at `url`.
    pub fn queue_attributes(&self, url: &str) -> Result<HashMap<String, String>> {
        let call = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::All)
            .send();
        let out = sdk("GetQueueAttributes", self.block_on(call))?;
        Ok(out
            .attributes()
            .map(|a| {
                a.iter()
                    .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Messages in the queue at `url`: visible, in flight or delayed.
    pub fn queue_depth(&self, url: &str) -> Result<u64> {
        let a = self.queue_attributes(url)?;
        Ok([
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        .iter()
        .filter_map(|k| a.get(*k)?.parse::<u64>().ok())
        .sum())
    }

    /// The bodies of the messages waiting in the queue, left there (each
    /// received with no visibility timeout).
    pub fn peek_messages(&self, url: &str) -> Result<Vec<String>> {
        let call = self
            .sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .send();
        let out = sdk("ReceiveMessage", self.block_on(call))?;
        Ok(out
            .messages()
            .iter()
            .filter_map(|m| m.body().map(str::to_owned))
            .collect())
    }
}
