//! `memory://[?partitions=N][&retention=M]`: an in-process broker for the embedded mode and tests.
//!
//! Same semantics as the Kafka backend where stages can observe them: partitioned logs, keys hashed
//! as Kafka's Java client does, consumer groups that split a topic's partitions among their live
//! members, committed positions that a new member resumes from, partitions readable back for
//! rebuilding state. Like Kafka's size-based retention, a partition keeps its newest `M` messages
//! (default 2,000,000), so memory stays bounded.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::Notify;

use crate::topics::{TopicSpec, partition_for};
use crate::{Bus, BusError, Consumer, Message, Record, url_param};

#[derive(Debug, Clone, Default)]
pub struct MemoryBus {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    state: Mutex<State>,
    /// Woken on every produce and every membership change.
    changed: Notify,
    limits: Limits,
}

/// Sizes of topics created on the fly and of every partition's log.
#[derive(Debug, Clone, Copy)]
struct Limits {
    partitions: i32,
    retention: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            partitions: 4,
            retention: 2_000_000,
        }
    }
}

#[derive(Debug, Default)]
struct State {
    topics: HashMap<String, Topic>,
    groups: HashMap<String, Group>,
    next_member: u64,
}

#[derive(Debug)]
struct Topic {
    /// Shared by its messages.
    name: Arc<str>,
    partitions: Vec<Partition>,
}

#[derive(Debug, Default)]
struct Partition {
    /// Offset of `log[0]`.
    base: i64,
    log: VecDeque<Message>,
}

#[derive(Debug, Default)]
struct Group {
    topics: BTreeSet<String>,
    members: BTreeSet<u64>,
    committed: HashMap<(String, i32), i64>,
    /// Bumped when a member joins or leaves: every member's partitions may have moved.
    generation: u64,
}

impl Group {
    /// The partitions of `topics` that `member` owns: partition `i` goes to the member of rank
    /// `i % members`.
    fn owned<'a>(
        &self,
        member: u64,
        topics: &'a [String],
        all: &HashMap<String, Topic>,
    ) -> Vec<(&'a str, i32)> {
        let Some(rank) = self.members.iter().position(|&m| m == member) else {
            return Vec::new();
        };
        let n = self.members.len();
        topics
            .iter()
            .flat_map(|t| {
                let count = all.get(t).map_or(0, |t| t.partitions.len());
                (0..count)
                    .filter(move |i| i % n == rank)
                    .map(move |i| (t.as_str(), i as i32))
            })
            .collect()
    }
}

impl Topic {
    fn new(name: &str, partitions: i32) -> Topic {
        Topic {
            name: name.into(),
            partitions: (0..partitions).map(|_| Partition::default()).collect(),
        }
    }
}

/// A batch's keys and payloads, one after the other in one buffer: copied before the bus is
/// locked, and one allocation a batch rather than two a message.
fn pack(batch: &[Record<'_>]) -> Bytes {
    let size = batch
        .iter()
        .map(|r| r.key.map_or(0, <[u8]>::len) + r.payload.len())
        .sum();
    let mut buf = Vec::with_capacity(size);
    for r in batch {
        buf.extend_from_slice(r.key.unwrap_or_default());
        buf.extend_from_slice(r.payload);
    }
    Bytes::from(buf)
}

impl State {
    /// Appends records to `topic` (created with the default partition count if new), dropping the
    /// oldest messages beyond the retention. `packed` holds the batch's keys and payloads
    /// ([`pack`]), which its messages share.
    fn append(
        &mut self,
        topic: &str,
        batch: &[Record<'_>],
        packed: &Bytes,
        limits: Limits,
        now: i64,
    ) {
        if !self.topics.contains_key(topic) {
            let new = Topic::new(topic, limits.partitions);
            self.topics.insert(topic.to_string(), new);
        }
        let Some(t) = self.topics.get_mut(topic) else {
            return;
        };
        let n = t.partitions.len() as i32;
        let mut at = 0;
        for r in batch {
            let mut take = |len: usize| {
                at += len;
                packed.slice(at - len..at)
            };
            let key = r.key.map(|k| take(k.len()));
            let payload = take(r.payload.len());
            let partition = partition_for(r.key, n);
            let p = &mut t.partitions[partition as usize];
            let offset = p.base + p.log.len() as i64;
            p.log.push_back(Message {
                topic: Arc::clone(&t.name),
                partition,
                offset,
                key,
                payload,
                timestamp_ms: now,
            });
            if p.log.len() > limits.retention {
                p.log.pop_front();
                p.base += 1;
            }
        }
    }

    /// Records `positions` as `group`'s committed positions.
    fn commit(&mut self, group: &str, positions: &HashMap<(String, i32), i64>) {
        if let Some(g) = self.groups.get_mut(group) {
            for (key, &pos) in positions {
                g.committed.insert(key.clone(), pos);
            }
        }
    }
}

impl MemoryBus {
    /// A bus whose topics created on the fly get `partitions`, and whose partitions keep their
    /// newest `retention` messages.
    pub fn new(partitions: i32, retention: usize) -> Self {
        let limits = Limits {
            partitions,
            retention,
        };
        Self {
            inner: Arc::new(Inner {
                limits,
                ..Default::default()
            }),
        }
    }

    pub(crate) fn from_url(url: &url::Url) -> Result<Self, BusError> {
        let bad = |reason: &str| BusError::Url {
            url: url.to_string(),
            reason: reason.into(),
        };
        let defaults = Limits::default();
        let partitions = url_param::<i32>(url, "partitions")?.unwrap_or(defaults.partitions);
        if !(1..=1024).contains(&partitions) {
            return Err(bad("partitions must be 1 to 1024"));
        }
        let retention = url_param::<usize>(url, "retention")?.unwrap_or(defaults.retention);
        if retention == 0 {
            return Err(bad("retention must be at least 1 message"));
        }
        Ok(Self::new(partitions, retention))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-updated in a way later
        // callers would misread, so a poisoned lock is still usable.
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl Bus for MemoryBus {
    async fn create_topics(&self, topics: &[TopicSpec]) -> Result<(), BusError> {
        let mut st = self.lock();
        for t in topics {
            if t.partitions < 1 {
                return Err(BusError::Other(format!(
                    "topic {:?}: partitions must be >= 1",
                    t.name
                )));
            }
            st.topics
                .entry(t.name.clone())
                .or_insert_with(|| Topic::new(&t.name, t.partitions));
        }
        Ok(())
    }

    async fn delete_topics(&self, topics: &[&str]) -> Result<(), BusError> {
        let mut st = self.lock();
        for t in topics {
            st.topics.remove(*t);
        }
        drop(st);
        self.inner.changed.notify_waiters();
        Ok(())
    }

    async fn produce(&self, topic: &str, batch: &[Record<'_>]) -> Result<(), BusError> {
        let now = chrono::Utc::now().timestamp_millis();
        let packed = pack(batch);
        self.lock()
            .append(topic, batch, &packed, self.inner.limits, now);
        self.inner.changed.notify_waiters();
        Ok(())
    }

    async fn subscribe(&self, group: &str, topics: &[&str]) -> Result<Box<dyn Consumer>, BusError> {
        let member = {
            let mut st = self.lock();
            if let Some(t) = topics.iter().find(|t| !st.topics.contains_key(**t)) {
                return Err(BusError::UnknownTopic(t.to_string()));
            }
            st.next_member += 1;
            let member = st.next_member;
            let g = st.groups.entry(group.to_string()).or_default();
            g.members.insert(member);
            g.generation += 1;
            g.topics.extend(topics.iter().map(|t| t.to_string()));
            member
        };
        self.inner.changed.notify_waiters();
        Ok(Box::new(MemoryConsumer {
            bus: self.clone(),
            group: group.to_string(),
            topics: topics.iter().map(|t| t.to_string()).collect(),
            member,
            positions: HashMap::new(),
        }))
    }

    async fn read_partition(
        &self,
        topic: &str,
        partition: i32,
        until: i64,
        f: &mut (dyn for<'m> FnMut(&'m [Message]) + Send),
    ) -> Result<(), BusError> {
        let batch: Vec<Message> = {
            let st = self.lock();
            let parts = st
                .topics
                .get(topic)
                .ok_or_else(|| BusError::UnknownTopic(topic.to_string()))?;
            let p = parts.partitions.get(partition as usize).ok_or_else(|| {
                BusError::Other(format!("topic {topic:?} has no partition {partition}"))
            })?;
            p.log
                .iter()
                .take_while(|m| m.offset < until)
                .cloned()
                .collect()
        };
        for chunk in batch.chunks(1000) {
            f(chunk);
        }
        Ok(())
    }

    /// Every commit on this backend is atomic with its outputs, so a transactional consumer is a
    /// plain one.
    async fn subscribe_transactional(
        &self,
        group: &str,
        topics: &[&str],
        _transactional_id: &str,
    ) -> Result<Box<dyn Consumer>, BusError> {
        self.subscribe(group, topics).await
    }
}

/// One member of a group. It owns the partitions `i` with `i % members == its rank`; positions of
/// partitions it loses are forgotten, those it gains start at the group's committed position.
#[derive(Debug)]
struct MemoryConsumer {
    bus: MemoryBus,
    group: String,
    topics: Vec<String>,
    member: u64,
    positions: HashMap<(String, i32), i64>,
}

impl MemoryConsumer {
    /// Takes what is available now; `None` when nothing is.
    fn take(&mut self, max: usize) -> Option<Vec<Message>> {
        let st = self.bus.lock();
        let g = st.groups.get(&self.group)?;
        // Sorted, so a poll takes partitions in a fixed order: same input, same batches.
        let mut owned = BTreeMap::new();
        for (topic, i) in g.owned(self.member, &self.topics, &st.topics) {
            let key = (topic.to_string(), i);
            let p = &st.topics.get(topic)?.partitions[i as usize];
            let committed = g.committed.get(&key).copied().unwrap_or(0);
            let pos = self
                .positions
                .get(&key)
                .copied()
                .unwrap_or(committed)
                .max(p.base);
            owned.insert(key, (pos, p));
        }
        self.positions.retain(|k, _| owned.contains_key(k));
        let mut out = Vec::new();
        for (key, (pos, p)) in owned {
            let start = ((pos - p.base) as usize).min(p.log.len());
            let taken: Vec<Message> = p
                .log
                .range(start..)
                .take(max - out.len())
                .cloned()
                .collect();
            self.positions.insert(key, pos + taken.len() as i64);
            out.extend(taken);
            if out.len() == max {
                break;
            }
        }
        (!out.is_empty()).then_some(out)
    }
}

#[async_trait]
impl Consumer for MemoryConsumer {
    async fn poll(&mut self, max: usize, wait: Duration) -> Result<Vec<Message>, BusError> {
        let deadline = tokio::time::Instant::now() + wait;
        let inner = Arc::clone(&self.bus.inner);
        loop {
            // Registered before looking, so a produce in between is not missed.
            let notified = inner.changed.notified();
            if let Some(batch) = self.take(max.max(1)) {
                return Ok(batch);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Ok(Vec::new());
            }
        }
    }

    async fn commit_with(&mut self, outputs: &[crate::Output<'_>]) -> Result<(), BusError> {
        let now = chrono::Utc::now().timestamp_millis();
        let runs: Vec<(&str, Vec<Record<'_>>, Bytes)> = outputs
            .chunk_by(|a, b| a.topic == b.topic)
            .map(|run| {
                let records: Vec<Record<'_>> = run.iter().map(|o| o.record).collect();
                let packed = pack(&records);
                (run[0].topic, records, packed)
            })
            .collect();
        {
            let mut st = self.bus.lock();
            for (topic, records, packed) in &runs {
                st.append(topic, records, packed, self.bus.inner.limits, now);
            }
            st.commit(&self.group, &self.positions);
        }
        if !outputs.is_empty() {
            self.bus.inner.changed.notify_waiters();
        }
        Ok(())
    }

    fn assignment(&self) -> Vec<(String, i32)> {
        let st = self.bus.lock();
        let Some(g) = st.groups.get(&self.group) else {
            return Vec::new();
        };
        g.owned(self.member, &self.topics, &st.topics)
            .into_iter()
            .map(|(t, p)| (t.to_string(), p))
            .collect()
    }

    fn generation(&self) -> u64 {
        self.bus
            .lock()
            .groups
            .get(&self.group)
            .map_or(0, |g| g.generation)
    }

    async fn committed(&self) -> Result<Vec<(String, i32, i64)>, BusError> {
        let st = self.bus.lock();
        let Some(g) = st.groups.get(&self.group) else {
            return Ok(Vec::new());
        };
        Ok(g.owned(self.member, &self.topics, &st.topics)
            .into_iter()
            .map(|(t, p)| {
                let at = g.committed.get(&(t.to_string(), p)).copied().unwrap_or(0);
                (t.to_string(), p, at)
            })
            .collect())
    }
}

impl Drop for MemoryConsumer {
    fn drop(&mut self) {
        let mut st = self.bus.lock();
        if let Some(g) = st.groups.get_mut(&self.group) {
            g.members.remove(&self.member);
            g.generation += 1;
        }
        drop(st);
        self.bus.inner.changed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn partitions_keep_their_newest_messages() {
        let bus = MemoryBus::new(1, 3);
        bus.create_topics(&[TopicSpec::new("t", 1)]).await.unwrap();
        let payloads: Vec<[u8; 1]> = (0..5u8).map(|i| [i]).collect();
        let records: Vec<Record<'_>> = payloads
            .iter()
            .map(|p| Record {
                key: None,
                payload: p,
            })
            .collect();
        bus.produce("t", &records).await.unwrap();
        let mut c = bus.subscribe("g", &["t"]).await.unwrap();
        let got = c.poll(10, Duration::from_millis(10)).await.unwrap();
        let offsets: Vec<i64> = got.iter().map(|m| m.offset).collect();
        assert_eq!(
            offsets,
            [2, 3, 4],
            "offsets keep counting; the oldest two are gone"
        );
    }
}
