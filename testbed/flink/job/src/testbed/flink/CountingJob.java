package testbed.flink;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * The test bed's own streaming job: a throttled number sequence, keyed by x % 4, counted in keyed
 * ValueState under uid "count"; runs until stopped. Compiles against Flink 1.20 and 2.x (no
 * open(Configuration), no SourceFunction/addSink).
 *
 * Arguments: --fail-after-seconds N (throw after N s, so the job FAILS), --job-name NAME
 * (execute(NAME); without it execute() and pipeline.name applies), --throw-in-main (main throws
 * before execute), --records-per-second N (default 20), --snapshot-sleep-ms N (the counting
 * operator sleeps N ms in snapshotState, so every checkpoint and savepoint stays IN_PROGRESS that
 * long: a test can act truly during one).
 *
 * The jar's build ("v1", "v2", ...) comes from the resource testbed-job-build.txt, so one
 * compilation yields jars that differ; it names the counting operator ("count v2") and so shows
 * in GET /jobs/:id.
 */
public class CountingJob {

    public static void main(String[] args) throws Exception {
        long failAfterSeconds = -1;
        String jobName = null;
        boolean throwInMain = false;
        long recordsPerSecond = 20;
        long snapshotSleepMillis = 0;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--fail-after-seconds":
                    failAfterSeconds = Long.parseLong(value(args, ++i, "--fail-after-seconds"));
                    break;
                case "--job-name":
                    jobName = value(args, ++i, "--job-name");
                    break;
                case "--throw-in-main":
                    throwInMain = true;
                    break;
                case "--records-per-second":
                    recordsPerSecond = Long.parseLong(value(args, ++i, "--records-per-second"));
                    break;
                case "--snapshot-sleep-ms":
                    snapshotSleepMillis = Long.parseLong(value(args, ++i, "--snapshot-sleep-ms"));
                    break;
                default:
                    throw new IllegalArgumentException("CountingJob: unknown argument " + args[i]);
            }
        }
        if (throwInMain) {
            throw new IllegalStateException("CountingJob: --throw-in-main was given, main() fails before execute()");
        }
        String build = build();

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.fromSequence(0, Long.MAX_VALUE)
                .name("sequence")
                .uid("sequence")
                .map(new Throttle(1000 / Math.max(1, recordsPerSecond), failAfterSeconds))
                .name("throttle")
                .uid("throttle")
                .keyBy(new KeyByRemainder())
                .process(new Count(build, snapshotSleepMillis))
                .name("count " + build)
                .uid("count")
                .print()
                .name("print");
        if (jobName != null) {
            env.execute(jobName);
        } else {
            env.execute();
        }
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) throw new IllegalArgumentException("CountingJob: " + flag + " needs a value");
        return args[i];
    }

    private static String build() throws IOException {
        try (InputStream in = CountingJob.class.getResourceAsStream("/testbed-job-build.txt")) {
            if (in == null) return "unknown";
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
        }
    }

    /** Sleeps per record (throttles without filling network buffers); optionally fails after a while. */
    public static class Throttle implements MapFunction<Long, Long> {
        private final long sleepMillis;
        private final long failAfterSeconds;
        private transient long firstRecordAt;

        Throttle(long sleepMillis, long failAfterSeconds) {
            this.sleepMillis = sleepMillis;
            this.failAfterSeconds = failAfterSeconds;
        }

        @Override
        public Long map(Long value) throws Exception {
            long now = System.currentTimeMillis();
            if (firstRecordAt == 0) firstRecordAt = now;
            if (failAfterSeconds >= 0 && now - firstRecordAt >= failAfterSeconds * 1000) {
                throw new RuntimeException("CountingJob: failing on purpose after --fail-after-seconds " + failAfterSeconds);
            }
            Thread.sleep(sleepMillis);
            return value;
        }
    }

    public static class KeyByRemainder implements org.apache.flink.api.java.functions.KeySelector<Long, Long> {
        @Override
        public Long getKey(Long value) {
            return value % 4;
        }
    }

    /** Counts records per key in ValueState, emitting every 10th count; optionally slow to snapshot. */
    public static class Count extends KeyedProcessFunction<Long, Long, String> implements CheckpointedFunction {
        private final String build;
        private final long snapshotSleepMillis;
        private transient ValueState<Long> count;

        Count(String build, long snapshotSleepMillis) {
            this.build = build;
            this.snapshotSleepMillis = snapshotSleepMillis;
        }

        @Override
        public void initializeState(FunctionInitializationContext context) {
            // The keyed ValueState is created lazily in processElement.
        }

        @Override
        public void snapshotState(FunctionSnapshotContext context) throws Exception {
            // Synchronous part of the snapshot: the checkpoint or savepoint stays IN_PROGRESS meanwhile.
            if (snapshotSleepMillis > 0) Thread.sleep(snapshotSleepMillis);
        }

        @Override
        public void processElement(Long value, Context ctx, Collector<String> out) throws Exception {
            if (count == null) {
                count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Long.class));
            }
            Long previous = count.value();
            long next = previous == null ? 1 : previous + 1;
            count.update(next);
            if (next % 10 == 0) out.collect(build + " key " + ctx.getCurrentKey() + " count " + next);
        }
    }
}
