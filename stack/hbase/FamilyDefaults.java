import org.apache.hadoop.hbase.HBaseConfiguration;
import org.apache.hadoop.hbase.TableName;
import org.apache.hadoop.hbase.client.Admin;
import org.apache.hadoop.hbase.client.ColumnFamilyDescriptor;
import org.apache.hadoop.hbase.client.ColumnFamilyDescriptorBuilder;
import org.apache.hadoop.hbase.client.Connection;
import org.apache.hadoop.hbase.client.ConnectionFactory;
import org.apache.hadoop.hbase.regionserver.BloomType;

/**
 * Give every column family of table args[0] HBase's own defaults for reads: the block cache on, and a ROW bloom
 * filter.
 *
 * <p>A table created through Thrift 1 (happybase) gets neither, so every lookup of an absent row seeks into each
 * store file of each family it reads, from disk, and the SaveBolt looks up every new id. stack/services/hbase.sh
 * runs this with Java's source launcher when `make up` finds such a family; store files written before keep no
 * bloom filter until a compaction rewrites them.
 */
public class FamilyDefaults {
    public static void main(String[] args) throws Exception {
        TableName table = TableName.valueOf(args[0]);
        try (Connection conn = ConnectionFactory.createConnection(HBaseConfiguration.create());
             Admin admin = conn.getAdmin()) {
            for (ColumnFamilyDescriptor family : admin.getDescriptor(table).getColumnFamilies()) {
                if (family.getBloomFilterType() != BloomType.ROW || !family.isBlockCacheEnabled()) {
                    admin.modifyColumnFamily(table, ColumnFamilyDescriptorBuilder.newBuilder(family)
                        .setBloomFilterType(BloomType.ROW).setBlockCacheEnabled(true).build());
                    System.out.println("block cache and ROW bloom filter on " + table + ":" + family.getNameAsString());
                }
            }
        }
    }
}
