package loanrisk.storm;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.storm.multilang.BoltMsg;
import org.apache.storm.multilang.ISerializer;
import org.apache.storm.multilang.NoOutputException;
import org.apache.storm.multilang.ShellMsg;
import org.apache.storm.multilang.SpoutMsg;
import org.apache.storm.shade.net.minidev.json.JSONObject;
import org.apache.storm.shade.net.minidev.json.JSONValue;
import org.apache.storm.task.TopologyContext;
import org.apache.storm.utils.Utils;

/**
 * Storm's JSON multilang protocol, the same messages as {@code org.apache.storm.multilang.JsonSerializer}, read and
 * written with Jackson's streaming API instead of json-smart.
 *
 * <p>Registered with {@code topology.multilang.serializer}. Profiles of the worker during a drain put ~65 % of its
 * CPU in json-smart: the Python bolts' batch tuples carry each applicant's canonical JSON as a string, and json-smart
 * reads a string holding escapes one char at a time into a StringBuilder, and escapes every char it writes the same
 * way. Jackson scans and escapes in bulk. Frames are split on {@code "\nend\n"} over raw bytes (the Python side
 * writes one JSON text per frame) instead of a BufferedReader's lines.
 *
 * <p>Messages read back give Storm the ShellMsg its JsonSerializer gives, with json-smart's number types (Integer,
 * Long or BigInteger by size; Double), except that JSON objects and arrays become HashMap and ArrayList, which
 * Storm's Kryo registers, so tuples can cross workers; and a {@code task} field (a direct emit) is read as any
 * integer, where Storm's cast to Long fails on json-smart's Integer. The handshake (once per process: the conf and the TopologyContext) is written by
 * json-smart exactly as Storm writes it.
 */
public class FastJsonSerializer implements ISerializer {
    private static final long serialVersionUID = 1L;
    private static final String FRAME_END_TEXT = "\nend\n";
    private static final byte[] FRAME_END = FRAME_END_TEXT.getBytes(StandardCharsets.US_ASCII);
    private static final int CHUNK = 1 << 16;

    private transient OutputStream processIn;
    private transient InputStream processOut;
    private transient JsonFactory json;
    private transient byte[] buf;
    private transient int start;
    private transient int end;
    private transient ByteArrayBuilder outBuf;

    @Override
    public void initialize(OutputStream processIn, InputStream processOut) {
        this.processIn = processIn;
        this.processOut = processOut;
        this.json = JsonFactory.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS) // json-smart reads NaN; Python's json may write it
            .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE).build())
            .build();
        this.buf = new byte[CHUNK];
        this.outBuf = new ByteArrayBuilder(CHUNK);
    }

    @Override
    public Number connect(Map<String, Object> conf, TopologyContext context) throws IOException, NoOutputException {
        JSONObject setupInfo = new JSONObject();
        setupInfo.put("pidDir", context.getPIDDir());
        setupInfo.put("conf", conf);
        setupInfo.put("context", context);
        writeFrame(JSONValue.toJSONString(setupInfo).getBytes(StandardCharsets.UTF_8));
        Object reply = readMessage();
        if (!(reply instanceof Map)) {
            throw new IOException("handshake answer is not a JSON object: " + reply);
        }
        return (Number) ((Map<?, ?>) reply).get("pid");
    }

    @Override
    public void writeBoltMsg(BoltMsg msg) throws IOException {
        try (JsonGenerator g = generator()) {
            g.writeStartObject();
            g.writeStringField("id", msg.getId());
            g.writeStringField("comp", msg.getComp());
            g.writeStringField("stream", msg.getStream());
            g.writeNumberField("task", msg.getTask());
            g.writeFieldName("tuple");
            writeValue(g, msg.getTuple());
            g.writeEndObject();
        } catch (JsonProcessingException e) { // e.g. a string with a lone surrogate: json-smart escapes it
            JSONObject obj = new JSONObject();
            obj.put("id", msg.getId());
            obj.put("comp", msg.getComp());
            obj.put("stream", msg.getStream());
            obj.put("task", msg.getTask());
            obj.put("tuple", msg.getTuple());
            writeFrame(JSONValue.toJSONString(obj).getBytes(StandardCharsets.UTF_8));
            return;
        }
        flushFrame();
    }

    @Override
    public void writeSpoutMsg(SpoutMsg msg) throws IOException {
        try (JsonGenerator g = generator()) {
            g.writeStartObject();
            g.writeStringField("command", msg.getCommand());
            g.writeFieldName("id");
            writeValue(g, msg.getId());
            g.writeEndObject();
        }
        flushFrame();
    }

    @Override
    public void writeTaskIds(List<Integer> taskIds) throws IOException {
        try (JsonGenerator g = generator()) {
            writeValue(g, taskIds);
        }
        flushFrame();
    }

    @Override
    public ShellMsg readShellMsg() throws IOException, NoOutputException {
        Object parsed = readMessage();
        if (!(parsed instanceof Map)) {
            throw new IOException("multilang message is not a JSON object: " + String.valueOf(parsed));
        }
        return shellMsg((Map<?, ?>) parsed);
    }

    /** Build Storm's ShellMsg from a parsed message, field by field as Storm's JsonSerializer does. */
    static ShellMsg shellMsg(Map<?, ?> msg) {
        ShellMsg shellMsg = new ShellMsg();
        String command = (String) msg.get("command");
        shellMsg.setCommand(command);
        shellMsg.setId(msg.get("id"));
        shellMsg.setMsg((String) msg.get("msg"));
        String stream = (String) msg.get("stream");
        shellMsg.setStream(stream == null ? Utils.DEFAULT_STREAM_ID : stream);
        Object task = msg.get("task");
        shellMsg.setTask(task == null ? 0 : ((Number) task).longValue());
        Object needTaskIds = msg.get("need_task_ids");
        shellMsg.setNeedTaskIds(needTaskIds == null || (Boolean) needTaskIds);
        @SuppressWarnings("unchecked")
        List<Object> tuple = (List<Object>) msg.get("tuple");
        shellMsg.setTuple(tuple);
        Object anchors = msg.get("anchors");
        if (anchors != null) {
            for (Object anchor : anchors instanceof String ? Arrays.asList(anchors) : (List<?>) anchors) {
                shellMsg.addAnchor((String) anchor);
            }
        }
        Object name = msg.get("name");
        shellMsg.setMetricName(name instanceof String ? (String) name : null);
        shellMsg.setMetricParams(msg.get("params"));
        Object level = msg.get("level");
        if ("log".equals(command) && level instanceof Number) {
            shellMsg.setLogLevel(((Number) level).intValue());
        }
        return shellMsg;
    }

    private JsonGenerator generator() throws IOException {
        outBuf.reset();
        return json.createGenerator(outBuf);
    }

    private void flushFrame() throws IOException {
        writeFrame(outBuf.toByteArray());
    }

    private void writeFrame(byte[] message) throws IOException {
        processIn.write(message);
        processIn.write(FRAME_END);
        processIn.flush();
    }

    /** Write a tuple value: the JSON types, Java numbers and collections; anything else as json-smart writes it. */
    static void writeValue(JsonGenerator g, Object value) throws IOException {
        if (value == null) {
            g.writeNull();
        } else if (value instanceof String) {
            g.writeString((String) value);
        } else if (value instanceof Integer || value instanceof Long || value instanceof Short
            || value instanceof Byte) {
            g.writeNumber(((Number) value).longValue());
        } else if (value instanceof Double || value instanceof Float) {
            double number = ((Number) value).doubleValue();
            if (Double.isFinite(number)) {
                g.writeNumber(number);
            } else { // as json-smart writes it: JSON has no NaN or Infinity
                g.writeNull();
            }
        } else if (value instanceof Boolean) {
            g.writeBoolean((Boolean) value);
        } else if (value instanceof BigInteger) {
            g.writeNumber((BigInteger) value);
        } else if (value instanceof BigDecimal) {
            g.writeNumber((BigDecimal) value);
        } else if (value instanceof Map) {
            g.writeStartObject();
            for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
                g.writeFieldName(String.valueOf(e.getKey()));
                writeValue(g, e.getValue());
            }
            g.writeEndObject();
        } else if (value instanceof Iterable) {
            g.writeStartArray();
            for (Object item : (Iterable<?>) value) {
                writeValue(g, item);
            }
            g.writeEndArray();
        } else if (value instanceof Object[]) {
            g.writeStartArray();
            for (Object item : (Object[]) value) {
                writeValue(g, item);
            }
            g.writeEndArray();
        } else {
            g.writeRawValue(JSONValue.toJSONString(value));
        }
    }

    private Object readMessage() throws IOException, NoOutputException {
        int frameEnd = nextFrameEnd();
        try (JsonParser p = json.createParser(buf, start, frameEnd - start)) {
            JsonToken first = p.nextToken();
            Object value = first == null ? null : readValue(p, first);
            if (p.nextToken() != null) {
                throw new IOException("trailing data after a multilang message");
            }
            return value;
        } finally {
            start = frameEnd + FRAME_END.length;
        }
    }

    /** Read a JSON value with json-smart's types (Integer, Long, BigInteger; Double, BigDecimal), HashMap, ArrayList. */
    static Object readValue(JsonParser p, JsonToken token) throws IOException {
        switch (token) {
            case START_OBJECT: {
                Map<String, Object> map = new HashMap<>();
                for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
                    String key = p.currentName();
                    map.put(key, readValue(p, p.nextToken()));
                }
                return map;
            }
            case START_ARRAY: {
                List<Object> list = new ArrayList<>();
                for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
                    list.add(readValue(p, t));
                }
                return list;
            }
            case VALUE_STRING:
                return p.getText();
            case VALUE_NUMBER_INT:
                switch (p.getNumberType()) {
                    case INT:
                        return p.getIntValue();
                    case LONG:
                        return p.getLongValue();
                    default:
                        return p.getBigIntegerValue();
                }
            case VALUE_NUMBER_FLOAT: // json-smart keeps a number of more than 18 chars exact
                return p.getTextLength() > 18 ? p.getDecimalValue() : (Object) p.getDoubleValue();
            case VALUE_TRUE:
                return Boolean.TRUE;
            case VALUE_FALSE:
                return Boolean.FALSE;
            case VALUE_NULL:
                return null;
            default:
                throw new IOException("unexpected JSON token " + token);
        }
    }

    /** Return the index of the next frame's end in buf, reading from the subprocess until it has arrived. */
    private int nextFrameEnd() throws IOException, NoOutputException {
        int searchFrom = start;
        while (true) {
            int found = indexOf(buf, searchFrom, end);
            if (found >= 0) {
                return found;
            }
            searchFrom = Math.max(start, end - FRAME_END.length + 1);
            if (start > 0) { // compact: move the partial frame to the front
                System.arraycopy(buf, start, buf, 0, end - start);
                searchFrom -= start;
                end -= start;
                start = 0;
            }
            if (end == buf.length) {
                buf = Arrays.copyOf(buf, buf.length * 2);
            }
            int n = processOut.read(buf, end, buf.length - end);
            if (n < 0) {
                String partial = new String(buf, start, Math.min(end - start, 2000), StandardCharsets.UTF_8);
                throw new NoOutputException("Pipe to subprocess seems to be broken!"
                    + (end == start ? " No output read.\n" : " Currently read output: " + partial + "\n")
                    + "Serializer Exception:\n");
            }
            end += n;
        }
    }

    /**
     * Return the first index of the frame end in bytes[from, to), or -1: through a Latin-1 String, whose indexOf the
     * JVM vectorises (a byte-by-byte loop over the frames was 14 % of the worker's CPU).
     */
    static int indexOf(byte[] bytes, int from, int to) {
        int begin = Math.max(0, from);
        if (to - begin < FRAME_END.length) {
            return -1;
        }
        int found = new String(bytes, begin, to - begin, StandardCharsets.ISO_8859_1).indexOf(FRAME_END_TEXT);
        return found < 0 ? -1 : begin + found;
    }
}
