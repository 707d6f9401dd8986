// Smoke job of ansible/playbooks/flink-smoke.yml: an unbounded, rate-limited stream (50 records/s)
// through a keyed running count (keyed state, so checkpoints carry state) into a discarding
// sink, checkpointing every 5 s. Compiled on the controller against lib/flink-dist-*.jar.
package fdp.smoke;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

public final class FdpSmokeJob {
    private FdpSmokeJob() {}

    /** Running count per key, kept in keyed state. */
    public static final class Count extends RichMapFunction<Long, Long> {
        private transient ValueState<Long> count;

        @Override
        public void open(org.apache.flink.api.common.functions.OpenContext context) {
            count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Types.LONG));
        }

        @Override
        public Long map(Long value) throws Exception {
            long next = (count.value() == null ? 0L : count.value()) + 1;
            count.update(next);
            return next;
        }
    }

    public static void main(String[] args) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.enableCheckpointing(5_000);
        DataGeneratorSource<Long> source = new DataGeneratorSource<>(
                index -> index, Long.MAX_VALUE, RateLimiterStrategy.perSecond(50), Types.LONG);
        env.fromSource(source, WatermarkStrategy.noWatermarks(), "fdp-smoke-source")
                .keyBy(value -> value % 8)
                .map(new Count())
                .name("fdp-smoke-count")
                .sinkTo(new DiscardingSink<>())
                .name("fdp-smoke-sink");
        env.execute("fdp-smoke");
    }
}
