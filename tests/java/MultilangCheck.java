import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import loanrisk.storm.FastJsonSerializer;
import org.apache.storm.multilang.BoltMsg;
import org.apache.storm.multilang.ISerializer;
import org.apache.storm.multilang.JsonSerializer;
import org.apache.storm.multilang.NoOutputException;
import org.apache.storm.multilang.ShellMsg;

/**
 * Compares loanrisk.storm.FastJsonSerializer with Storm's JsonSerializer (tests/integration/test_multilang_serializer.py
 * runs it with Java's source launcher). Reads multilang frames from stdin and, for each, prints one line:
 * "READ i same" or "READ i differ <field> storm=<...> fast=<...>" (the ShellMsg each serializer builds), then
 * "WRITE i <storm frame> <fast frame>" (base64): the BoltMsg each writes back with that message's tuple.
 */
public class MultilangCheck {
    public static void main(String[] args) throws Exception {
        byte[] frames = System.in.readAllBytes();
        List<ShellMsg> storm = readAll(new JsonSerializer(), frames);
        List<ShellMsg> fast = readAll(new FastJsonSerializer(), frames);
        if (storm.size() != fast.size()) {
            System.out.println("COUNT storm=" + storm.size() + " fast=" + fast.size());
        }
        for (int i = 0; i < Math.min(storm.size(), fast.size()); i++) {
            System.out.println("READ " + i + " " + difference(storm.get(i), fast.get(i)));
            BoltMsg msg = new BoltMsg();
            msg.setId("t" + i);
            msg.setComp("filter_bolt");
            msg.setStream(storm.get(i).getStream());
            msg.setTask(7);
            msg.setTuple(storm.get(i).getTuple());
            System.out.println("WRITE " + i + " " + written(new JsonSerializer(), msg) + " "
                + written(new FastJsonSerializer(), msg));
        }
    }

    static List<ShellMsg> readAll(ISerializer serializer, byte[] frames) throws Exception {
        serializer.initialize(new ByteArrayOutputStream(), new ByteArrayInputStream(frames));
        List<ShellMsg> out = new ArrayList<>();
        while (true) {
            try {
                out.add(serializer.readShellMsg());
            } catch (NoOutputException end) {
                return out;
            }
        }
    }

    static String written(ISerializer serializer, BoltMsg msg) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        serializer.initialize(out, new ByteArrayInputStream(new byte[0]));
        serializer.writeBoltMsg(msg);
        return Base64.getEncoder().encodeToString(out.toByteArray());
    }

    static String difference(ShellMsg a, ShellMsg b) {
        Object[][] fields = {
            {"command", a.getCommand(), b.getCommand()},
            {"id", a.getId(), b.getId()},
            {"anchors", a.getAnchors(), b.getAnchors()},
            {"stream", a.getStream(), b.getStream()},
            {"task", a.getTask(), b.getTask()},
            {"msg", a.getMsg(), b.getMsg()},
            {"tuple", a.getTuple(), b.getTuple()},
            {"need_task_ids", a.areTaskIdsNeeded(), b.areTaskIdsNeeded()},
            {"metric_name", a.getMetricName(), b.getMetricName()},
            {"metric_params", a.getMetricParams(), b.getMetricParams()},
            {"log_level", a.getLogLevel(), b.getLogLevel()},
        };
        for (Object[] f : fields) {
            if (!Objects.equals(f[1], f[2])) {
                return "differ " + f[0] + " storm=" + f[1] + " fast=" + f[2];
            }
        }
        return "same";
    }
}
