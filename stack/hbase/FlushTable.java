import org.apache.hadoop.hbase.HBaseConfiguration;
import org.apache.hadoop.hbase.TableName;
import org.apache.hadoop.hbase.client.Admin;
import org.apache.hadoop.hbase.client.Connection;
import org.apache.hadoop.hbase.client.ConnectionFactory;

/**
 * Flush the memstores of table args[0] to store files, and wait for it (Thrift 1 has no flush).
 *
 * <p>benchmarks/bench_hbase_cells.py runs this with Java's source launcher, so that a row layout's cost includes
 * writing its cells out, as HBase does for every row sooner or later.
 */
public class FlushTable {
    public static void main(String[] args) throws Exception {
        try (Connection conn = ConnectionFactory.createConnection(HBaseConfiguration.create());
             Admin admin = conn.getAdmin()) {
            admin.flush(TableName.valueOf(args[0]));
            System.out.println("flushed " + args[0]);
        }
    }
}
