package loanrisk.storm;

import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.storm.kafka.spout.FirstPollOffsetStrategy;
import org.apache.storm.kafka.spout.KafkaSpout;
import org.apache.storm.kafka.spout.KafkaSpoutConfig;
import org.apache.storm.kafka.spout.KafkaSpoutConfig.ProcessingGuarantee;
import org.apache.storm.kafka.spout.KafkaSpoutRetryExponentialBackoff;
import org.apache.storm.kafka.spout.KafkaSpoutRetryExponentialBackoff.TimeInterval;
import org.apache.storm.kafka.spout.RecordTranslator;
import org.apache.storm.spout.SpoutOutputCollector;
import org.apache.storm.task.TopologyContext;
import org.apache.storm.tuple.Fields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * storm-kafka-client's KafkaSpout behind a constructor that streamparse's JavaSpout can call.
 *
 * <p>streamparse passes only str/int arguments, which Storm instantiates as String/Long, so every
 * parameter here is one of those. Guarantees: AT_LEAST_ONCE (an offset is committed only after the
 * tuple tree of that record and of every record before it was acked), failed tuples replayed with
 * exponential backoff and no retry limit (a limit would mark the record acked, i.e. skip it silently;
 * the bolts dead-letter every input that can never succeed instead), first poll UNCOMMITTED_EARLIEST.
 *
 * <p>Default stream fields: topic, partition, offset, key, value, timestamp, value_sha256, value_utf8.
 * The value is read as bytes: value_sha256 is the sha256 hex of those exact bytes, value is their UTF-8
 * decoding (malformed sequences replaced by U+FFFD) and value_utf8 says whether they were valid UTF-8.
 *
 * <p>Consumer properties: the topology passes them as java.util.Properties text, the fetch settings
 * (loanrisk.spout.fetch_*) and the security ones (built once, in Python, by loanrisk.kafka_security), and the
 * environment variables those need. SASL credentials stay {@code ${env:NAME}}
 * references that Kafka's EnvVarConfigProvider resolves on the worker, so the serialised spout never holds them;
 * {@link #open} refuses to start, naming the variables, when one is missing.
 *
 * <p>A broker outage must not kill the worker: KafkaSpout.nextTuple catches a retriable error of its poll, but
 * not of its partition refresh (partitionsFor: "Timeout expired while fetching topic metadata") nor of its
 * offset commit (commitSync: "Timeout of 60000ms expired before successfully committing offsets"). Either
 * escaped the executor and halted the worker (exit 20) when the broker stayed down for more than 60 s
 * (`make chaos` kafka-restart-5x). {@link #nextTuple} logs such an error and lets the next call try again:
 * nothing was assigned or committed by the failed call, so the spout's state is unchanged and the commit
 * is retried (at-least-once holds). Kafka's blocking calls give up after {@link #API_TIMEOUT_MS}, so the
 * spout's thread (which also handles acks) is never blocked for a whole message timeout.
 */
public class LoanKafkaSpout extends KafkaSpout<String, byte[]> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(LoanKafkaSpout.class);

    /** default.api.timeout.ms and request.timeout.ms of the spout's consumer. */
    static final int API_TIMEOUT_MS = 10_000;

    /** Stream fields emitted for each Kafka record (see {@link LoanRecordTranslator}). */
    public static final Fields FIELDS = new Fields(
            "topic", "partition", "offset", "key", "value", "timestamp", "value_sha256", "value_utf8");

    private final List<String> requiredEnv;

    /**
     * Build the spout.
     *
     * @param bootstrapServers Kafka bootstrap servers, e.g. "127.0.0.1:9092"
     * @param topic the topic to consume
     * @param groupId consumer group; one per topology, so offsets survive a redeploy
     * @param maxUncommittedOffsets how far past the last committed offset the spout may emit
     * @param offsetCommitPeriodMs how often acked offsets are committed
     * @param retryInitialDelayMs first backoff of a failed tuple
     * @param retryMaxDelayMs backoff ceiling of a failed tuple
     * @param consumerProperties consumer properties in java.util.Properties text form (fetch settings; security ones unless PLAINTEXT)
     * @param requiredEnv comma-separated environment variables the properties refer to ("" for none)
     */
    public LoanKafkaSpout(String bootstrapServers, String topic, String groupId, Long maxUncommittedOffsets,
                          Long offsetCommitPeriodMs, Long retryInitialDelayMs, Long retryMaxDelayMs,
                          String consumerProperties, String requiredEnv) {
        super(config(bootstrapServers, topic, groupId, maxUncommittedOffsets, offsetCommitPeriodMs,
                retryInitialDelayMs, retryMaxDelayMs, parseProperties(consumerProperties)));
        this.requiredEnv = requiredEnv.isBlank() ? List.of() : List.of(requiredEnv.split(","));
    }

    @Override
    public void open(Map<String, Object> conf, TopologyContext context, SpoutOutputCollector collector) {
        String missing = missingEnv(requiredEnv, System.getenv());
        if (!missing.isEmpty()) {
            throw new IllegalStateException("Kafka security settings need the worker environment variables "
                    + String.join(" and ", requiredEnv.stream().map(v -> "$" + v).toList())
                    + "; missing: " + missing);
        }
        super.open(conf, context, collector);
    }

    /** Return the names of the required variables that are unset or empty, comma-separated ("" when none). */
    static String missingEnv(List<String> names, Map<String, String> environ) {
        return String.join(",", names.stream().filter(n -> environ.getOrDefault(n, "").isEmpty()).toList());
    }

    /** Parse java.util.Properties text into consumer properties. */
    static Map<String, Object> parseProperties(String text) {
        Properties props = new Properties();
        try {
            props.load(new StringReader(text));
        } catch (IOException e) {
            throw new IllegalArgumentException("unreadable Kafka consumer properties", e);
        }
        Map<String, Object> map = new java.util.TreeMap<>();
        props.stringPropertyNames().forEach(k -> map.put(k, props.getProperty(k)));
        return map;
    }

    /** Poll, emit and commit as KafkaSpout does; a retriable Kafka error is logged and retried next call. */
    @Override
    public void nextTuple() {
        try {
            super.nextTuple();
        } catch (RetriableException e) {
            LOG.warn("Kafka unavailable, retrying on the next call: {}", e.toString());
        }
    }

    /** Assemble the KafkaSpoutConfig with the pipeline's guarantees. */
    static KafkaSpoutConfig<String, byte[]> config(String bootstrapServers, String topic, String groupId,
                                                   Long maxUncommittedOffsets, Long offsetCommitPeriodMs,
                                                   Long retryInitialDelayMs, Long retryMaxDelayMs,
                                                   Map<String, Object> consumerProperties) {
        KafkaSpoutRetryExponentialBackoff retry = new KafkaSpoutRetryExponentialBackoff(
                new TimeInterval(retryInitialDelayMs, TimeUnit.MILLISECONDS),
                new TimeInterval(retryInitialDelayMs, TimeUnit.MILLISECONDS),
                Integer.MAX_VALUE,
                new TimeInterval(retryMaxDelayMs, TimeUnit.MILLISECONDS));
        KafkaSpoutConfig.Builder<String, byte[]> builder = new KafkaSpoutConfig.Builder<>(bootstrapServers, topic);
        consumerProperties.forEach(builder::setProp);
        return builder
                .setProp(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class)
                .setProp(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class)
                .setProp(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, API_TIMEOUT_MS)
                .setProp(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, API_TIMEOUT_MS)
                .setGroupId(groupId)
                .setProcessingGuarantee(ProcessingGuarantee.AT_LEAST_ONCE)
                .setFirstPollOffsetStrategy(FirstPollOffsetStrategy.UNCOMMITTED_EARLIEST)
                .setOffsetCommitPeriodMs(offsetCommitPeriodMs)
                .setMaxUncommittedOffsets(Math.toIntExact(maxUncommittedOffsets))
                .setRetry(retry)
                .setRecordTranslator(new LoanRecordTranslator())
                .build();
    }

    /** Turns a Kafka record into the spout's tuple, keeping the payload's exact hash and timestamp. */
    public static final class LoanRecordTranslator implements RecordTranslator<String, byte[]> {
        private static final long serialVersionUID = 1L;

        @Override
        public List<Object> apply(ConsumerRecord<String, byte[]> record) {
            return values(record);
        }

        /** Return a record's tuple values (FIELDS); LoanBatchSpout emits lists of these. */
        static List<Object> values(ConsumerRecord<String, byte[]> record) {
            byte[] bytes = record.value() == null ? new byte[0] : record.value();
            String strict = decodeStrict(bytes);
            String value = strict != null ? strict : new String(bytes, StandardCharsets.UTF_8);
            return Arrays.asList(record.topic(), record.partition(), record.offset(), record.key(), value,
                    record.timestamp(), sha256Hex(bytes), strict != null);
        }

        @Override
        public Fields getFieldsFor(String stream) {
            return FIELDS;
        }

        /** Decode UTF-8, or return null when the bytes are not valid UTF-8. */
        static String decodeStrict(byte[] bytes) {
            try {
                return StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException e) {
                return null;
            }
        }

        /** Return the sha256 hex digest of exact bytes. */
        static String sha256Hex(byte[] bytes) {
            try {
                return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("SHA-256 is always available", e);
            }
        }
    }
}
