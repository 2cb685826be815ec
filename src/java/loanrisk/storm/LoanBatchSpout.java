package loanrisk.storm;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.PriorityQueue;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.storm.spout.SpoutOutputCollector;
import org.apache.storm.task.TopologyContext;
import org.apache.storm.topology.OutputFieldsDeclarer;
import org.apache.storm.topology.base.BaseRichSpout;
import org.apache.storm.tuple.Fields;
import org.apache.storm.tuple.Values;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Kafka spout that emits the records of one poll and partition together: one tuple, one multilang message and
 * one acker entry for up to {@code recordsPerTuple} records instead of one per record.
 *
 * <p>Fields: partition, records. Each record is the list LoanKafkaSpout emits (topic, partition, offset, key,
 * value, timestamp, value_sha256, value_utf8), so every dead letter keeps its Kafka coordinates.
 *
 * <p>At least once: the message id is the partition and offset range; an offset is committed only when every
 * tuple at or below it was acked (the commit is the first offset of the oldest pending tuple, or the next offset
 * when none is pending). A failed tuple keeps its records and is emitted again after an exponential backoff,
 * with no retry limit (the bolts dead-letter what can never succeed). Partitions are assigned by task index
 * (partition % tasks), so no consumer-group rebalance can move records under a pending tuple; the committed
 * offsets live in the consumer group, and a partition without one starts at the earliest offset.
 */
public class LoanBatchSpout extends BaseRichSpout {
    private static final long serialVersionUID = 1L;

    public static final Fields FIELDS = new Fields("partition", "records");
    private static final Logger LOG = LoggerFactory.getLogger(LoanBatchSpout.class);
    /** How long a poll waits for records when nothing is in flight. */
    static final long IDLE_POLL_MS = 50;
    /**
     * How long a poll waits for records while tuples are in flight. Not 0: a poll(0) returns at once, Storm's spout
     * wait strategy sleeps 1 ms, and the executor spun through ~1,000 empty polls a second for as long as any tuple
     * was pending (the spout thread was ~0.03-0.1 ms of CPU per applicant in 20,000-applicant drains). A poll still
     * returns as soon as records arrive; acks wait at most this long (they only free in-flight room).
     */
    static final long BUSY_POLL_MS = 10;

    private final String bootstrapServers;
    private final String topic;
    private final String groupId;
    private final long maxPendingRecords;
    private final long offsetCommitPeriodMs;
    private final long retryInitialDelayMs;
    private final long retryMaxDelayMs;
    private final long recordsPerTuple;
    private final String consumerProperties;
    private final List<String> requiredEnv;

    private transient KafkaConsumer<String, byte[]> consumer;
    private transient SpoutOutputCollector collector;
    private transient Map<TopicPartition, NavigableMap<Long, Batch>> pending;
    private transient PriorityQueue<Batch> retries;
    private transient long pendingRecords;
    private transient long inFlightLimit;
    private transient long lastCommitMs;

    /** Records of one partition emitted as one tuple; its id is the partition and first offset. */
    static final class Batch {
        final TopicPartition partition;
        final long firstOffset;
        final long nextOffset;
        final List<List<Object>> records;
        int failures;
        long retryAtMs;

        Batch(TopicPartition partition, List<List<Object>> records, long firstOffset, long nextOffset) {
            this.partition = partition;
            this.records = records;
            this.firstOffset = firstOffset;
            this.nextOffset = nextOffset;
        }

        String id() {
            return partition.partition() + ":" + firstOffset + "-" + (nextOffset - 1);
        }
    }

    /** Build the spout; the arguments mirror LoanKafkaSpout's, plus the most records one tuple carries. */
    public LoanBatchSpout(String bootstrapServers, String topic, String groupId, Long maxPendingRecords,
                          Long offsetCommitPeriodMs, Long retryInitialDelayMs, Long retryMaxDelayMs,
                          String consumerProperties, String requiredEnv, Long recordsPerTuple) {
        this.bootstrapServers = bootstrapServers;
        this.topic = topic;
        this.groupId = groupId;
        this.maxPendingRecords = maxPendingRecords;
        this.offsetCommitPeriodMs = offsetCommitPeriodMs;
        this.retryInitialDelayMs = retryInitialDelayMs;
        this.retryMaxDelayMs = retryMaxDelayMs;
        this.recordsPerTuple = Math.max(1, recordsPerTuple);
        this.consumerProperties = consumerProperties;
        this.requiredEnv = requiredEnv.isBlank() ? List.of() : List.of(requiredEnv.split(","));
    }

    @Override
    public void open(Map<String, Object> conf, TopologyContext context, SpoutOutputCollector collector) {
        String missing = LoanKafkaSpout.missingEnv(requiredEnv, System.getenv());
        if (!missing.isEmpty()) {
            throw new IllegalStateException("Kafka security settings need the worker environment variables "
                    + String.join(" and ", requiredEnv.stream().map(v -> "$" + v).toList())
                    + "; missing: " + missing);
        }
        this.collector = collector;
        this.inFlightLimit = inFlightLimit(maxPendingRecords, conf.get("topology.max.spout.pending"));
        this.pending = new HashMap<>();
        this.retries = new PriorityQueue<>((a, b) -> Long.compare(a.retryAtMs, b.retryAtMs));
        this.consumer = new KafkaConsumer<>(consumerProps());
        int tasks = context.getComponentTasks(context.getThisComponentId()).size();
        int index = context.getThisTaskIndex();
        List<TopicPartition> mine = new ArrayList<>();
        for (PartitionInfo info : consumer.partitionsFor(topic)) {
            if (info.partition() % tasks == index) {
                mine.add(new TopicPartition(topic, info.partition()));
            }
        }
        consumer.assign(mine);
        Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(new java.util.HashSet<>(mine));
        List<TopicPartition> fresh = new ArrayList<>();
        for (TopicPartition tp : mine) {
            OffsetAndMetadata at = committed.get(tp);
            if (at == null) {
                fresh.add(tp);
            } else {
                consumer.seek(tp, at.offset());
            }
            pending.put(tp, new TreeMap<>());
        }
        if (!fresh.isEmpty()) { // an empty collection would mean every assigned partition
            consumer.seekToBeginning(fresh);
        }
        lastCommitMs = System.currentTimeMillis();
    }

    /**
     * Records in flight at most: topology.max.spout.pending counts tuples, and a tuple here holds many records,
     * so it is applied to records too, keeping a replay's size and the time to drain the queue as with one
     * record per tuple (well inside topology.message.timeout.secs).
     */
    static long inFlightLimit(long maxPendingRecords, Object maxSpoutPending) {
        return maxSpoutPending instanceof Number n ? Math.min(maxPendingRecords, n.longValue()) : maxPendingRecords;
    }

    Map<String, Object> consumerProps() {
        Map<String, Object> props = new HashMap<>(LoanKafkaSpout.parseProperties(consumerProperties));
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, (int) Math.min(maxPendingRecords, 1000));
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        // blocking calls give up well inside the message timeout, as in LoanKafkaSpout (a broker outage drill)
        props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, LoanKafkaSpout.API_TIMEOUT_MS);
        props.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, LoanKafkaSpout.API_TIMEOUT_MS);
        return props;
    }

    @Override
    public void nextTuple() {
        long now = System.currentTimeMillis();
        Batch due = retries.peek();
        if (due != null && due.retryAtMs <= now) {
            retries.poll();
            emit(due);
        } else if (pendingRecords < inFlightLimit) {
            ConsumerRecords<String, byte[]> polled;
            try {
                polled = consumer.poll(Duration.ofMillis(pendingRecords == 0 ? IDLE_POLL_MS : BUSY_POLL_MS));
            } catch (RetriableException e) { // the broker is away: nothing was consumed, poll again next call
                LOG.warn("Kafka unavailable, retrying on the next call: {}", e.toString());
                polled = ConsumerRecords.empty();
            }
            for (TopicPartition tp : polled.partitions()) {
                emitPartition(tp, polled.records(tp));
            }
        }
        if (now - lastCommitMs >= offsetCommitPeriodMs) {
            commit();
        }
    }

    private void emitPartition(TopicPartition tp, List<ConsumerRecord<String, byte[]>> records) {
        for (int start = 0; start < records.size(); start += (int) recordsPerTuple) {
            List<ConsumerRecord<String, byte[]>> chunk =
                    records.subList(start, (int) Math.min(records.size(), start + recordsPerTuple));
            List<List<Object>> values = new ArrayList<>(chunk.size());
            for (ConsumerRecord<String, byte[]> record : chunk) {
                values.add(new ArrayList<>(LoanKafkaSpout.LoanRecordTranslator.values(record)));
            }
            Batch batch = new Batch(tp, values, chunk.get(0).offset(), chunk.get(chunk.size() - 1).offset() + 1);
            pending.get(tp).put(batch.firstOffset, batch);
            pendingRecords += values.size();
            emit(batch);
        }
    }

    private void emit(Batch batch) {
        collector.emit(new Values(batch.partition.partition(), batch.records), batch.id());
    }

    @Override
    public void ack(Object msgId) {
        Batch batch = find(msgId);
        if (batch != null) {
            pending.get(batch.partition).remove(batch.firstOffset);
            pendingRecords -= batch.records.size();
        }
    }

    @Override
    public void fail(Object msgId) {
        Batch batch = find(msgId);
        if (batch != null) {
            batch.failures++;
            long delay = Math.min(retryMaxDelayMs, retryInitialDelayMs << Math.min(20, batch.failures - 1));
            batch.retryAtMs = System.currentTimeMillis() + delay;
            retries.add(batch);
        }
    }

    private Batch find(Object msgId) {
        String[] parts = ((String) msgId).split("[:-]");
        TopicPartition tp = new TopicPartition(topic, Integer.parseInt(parts[0]));
        NavigableMap<Long, Batch> batches = pending.get(tp);
        return batches == null ? null : batches.get(Long.parseLong(parts[1]));
    }

    /** Commit, per partition, the first offset still pending, or the consumer's position when none is. */
    private void commit() {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        lastCommitMs = System.currentTimeMillis();
        try { // position and commit may both time out while the broker is down: a worker must outlive that
            for (Map.Entry<TopicPartition, NavigableMap<Long, Batch>> entry : pending.entrySet()) {
                long safe = committable(entry.getValue(), consumer.position(entry.getKey()));
                offsets.put(entry.getKey(), new OffsetAndMetadata(safe));
            }
            consumer.commitSync(offsets);
        } catch (KafkaException e) { // e.g. the group still has a member of a killed topology: retried next period
            LOG.warn("committing offsets {} failed, retrying in {} ms: {}", offsets, offsetCommitPeriodMs, e.toString());
        }
    }

    /** The offset below which every record was acked: the oldest pending tuple's first, else the position. */
    static long committable(NavigableMap<Long, Batch> pendingOfPartition, long position) {
        return pendingOfPartition.isEmpty() ? position : pendingOfPartition.firstKey();
    }

    @Override
    public void deactivate() {
        commit();
    }

    @Override
    public void close() {
        if (consumer != null) {
            commit();
            consumer.close();
        }
    }

    @Override
    public void declareOutputFields(OutputFieldsDeclarer declarer) {
        declarer.declare(FIELDS);
    }
}
