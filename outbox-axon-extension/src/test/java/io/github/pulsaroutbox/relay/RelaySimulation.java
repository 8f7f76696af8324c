package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.capture.CapturedAggregates;
import io.github.pulsaroutbox.metrics.OutboxMetrics;
import io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore;
import org.axonframework.common.jdbc.ConnectionProvider;
import org.axonframework.common.jdbc.UnitOfWorkAwareConnectionProviderWrapper;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.eventhandling.tokenstore.AbstractTokenEntry;
import org.axonframework.eventhandling.tokenstore.jdbc.GenericTokenTableFactory;
import org.axonframework.eventhandling.tokenstore.jdbc.JdbcTokenStore;
import org.axonframework.serialization.json.JacksonSerializer;
import org.axonframework.spring.jdbc.SpringDataSourceConnectionProvider;
import org.axonframework.spring.messaging.unitofwork.SpringTransactionManager;
import org.h2.jdbcx.JdbcDataSource;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * A deterministic simulation of the relay: the real stages ({@link RelayPipeline} and everything it wires, the real
 * {@link SegmentClaims}) of several nodes, against a {@link SimulatedBroker}, on a simulated clock, with a real store
 * and token store (H2, JDBC). Everything runs on the calling thread in an order drawn from one seed: which node steps,
 * which of its recordings or sequence-id assignments commits, which pending send the broker answers and how, when
 * time moves, when rows are captured, and the faults: nodes paused past their claim timeout, killed and restarted,
 * broker outages, one topic unreachable while the other is served (two aggregate types, two topics), dropped
 * connections, partitions added, messages refused for what they are. The same seed always
 * gives the same run.
 * <p>
 * After a phase with faults the simulation heals everything and runs until the relay is idle, then checks the
 * invariants: every committed row stored exactly once (or parked, only if the broker refused it for what it is), no
 * row recorded SENT that the broker never stored, first stores in aggregate sequence order, nothing left pending.
 * Not covered here (covered by real-broker tests on PostgreSQL): a node frozen inside a database transaction, which
 * needs a second thread holding locks.
 */
final class RelaySimulation {

    private static final String TOPIC = "persistent://public/default/orders";
    /** The topic of a second aggregate type: resolved per topic, it may be unreachable while the other flows. */
    private static final String INVOICES = "persistent://public/default/invoices";
    private static final String PROCESSOR = "outbox";
    private static final Duration CLAIM_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration ACK_TIMEOUT = Duration.ofSeconds(5);
    private static final int SEGMENTS = 4;

    /** What a run found: the violations of the invariants (none when it passed) and what happened. */
    record Report(long seed, List<String> violations, int rows, int sent, int parked, int faults, long simulatedMillis,
                  List<String> trace) {

        boolean passed() {
            return violations.isEmpty();
        }

        @Override
        public String toString() {
            return "seed " + seed + ": " + (passed() ? "passed" : "FAILED " + violations) + " (" + rows + " rows, "
                    + sent + " sent, " + parked + " parked, " + faults + " faults, " + simulatedMillis
                    + " simulated ms)" + (passed() ? "" : "\nlast events:\n  " + String.join("\n  ", trace));
        }
    }

    private final long seed;
    private final Random random;
    private final int steps;
    private long nanos = TimeUnit.HOURS.toNanos(1);
    private final Clock clock = new Clock() {
        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.EPOCH.plusNanos(nanos);
        }
    };
    private final JdbcDataSource dataSource = new JdbcDataSource();
    private final TransactionManager transactions;
    private final ConnectionProvider connections;
    private final JdbcOutboxStore store;
    private final SimulatedBroker broker;
    private final Set<String> refused = new HashSet<>();
    private final List<Node> nodes = new ArrayList<>();
    private final Map<String, Long> nextSequence = new HashMap<>();
    private final List<String> trace = new ArrayList<>();
    private int captured;
    private int faults;
    private int incarnations;

    RelaySimulation(long seed, int steps) {
        this.seed = seed;
        this.random = new Random(seed);
        this.steps = steps;
        dataSource.setURL("jdbc:h2:mem:simulation-" + seed + "-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1");
        transactions = new SpringTransactionManager(new DataSourceTransactionManager(dataSource));
        connections = new UnitOfWorkAwareConnectionProviderWrapper(new SpringDataSourceConnectionProvider(dataSource));
        store = JdbcOutboxStore.builder().connectionProvider(connections).segmentCount(SEGMENTS).build();
        store.createSchema();
        transactions.executeInTransaction(() -> tokenStore("setup").createSchema(GenericTokenTableFactory.INSTANCE));
        broker = new SimulatedBroker(1 + random.nextInt(3), refused);
        int nodeCount = 2 + random.nextInt(2);
        for (int i = 0; i < nodeCount; i++) {
            nodes.add(new Node("node-" + i));
        }
    }

    /** Runs the simulation: the faulty phase, then healing until idle, then the invariants. */
    Report run() {
        Clock previous = AbstractTokenEntry.clock;
        AbstractTokenEntry.clock = clock;
        try {
            nodes.forEach(Node::start);
            for (int i = 0; i < steps; i++) {
                tick(true);
            }
            heal();
            boolean cutOff = nodes.size() > 1 && random.nextBoolean();
            int idleTicks = 0;
            for (int i = 0; i < 200_000 && idleTicks < 2_000; i++) {
                if (cutOff && i == 1_000) {
                    cutOffBusiestNode();
                }
                tick(false);
                idleTicks = i > 1_000 && pending() == 0 && !broker.hasPending() ? idleTicks + 1 : 0;
            }
            return report();
        } finally {
            AbstractTokenEntry.clock = previous;
            try (Connection connection = dataSource.getConnection()) {
                connection.createStatement().execute("SHUTDOWN");
            } catch (SQLException e) {
                // the database is gone either way
            }
        }
    }

    private void tick(boolean faulty) {
        int roll = random.nextInt(100);
        if (roll < 30) {
            pick().step();
        } else if (roll < 45) {
            pick().runTask();
        } else if (roll < 65) {
            broker.answerOne(random, faulty);
        } else if (roll < 75) {
            if (faulty && captured < 400) {
                capture();
            }
        } else if (roll < 97) {
            advance(random.nextInt(50) + 1);
        } else if (faulty) {
            fault();
        }
        nodes.forEach(Node::keepClaims);
    }

    private Node pick() {
        return nodes.get(random.nextInt(nodes.size()));
    }

    private void advance(long millis) {
        nanos += TimeUnit.MILLISECONDS.toNanos(millis);
    }

    private void capture() {
        List<OutboxEntry> rows = new ArrayList<>();
        int count = 1 + random.nextInt(5);
        for (int i = 0; i < count; i++) {
            String key;
            if (random.nextInt(100) == 0) {
                key = "poison-" + captured; // refused by the broker: one row, nothing behind it
            } else {
                key = "A" + random.nextInt(12);
            }
            long sequence = nextSequence.merge(key, 1L, Long::sum) - 1;
            String id = key + "-" + sequence;
            if (key.startsWith("poison")) {
                refused.add(id);
            }
            String type = Math.floorMod(key.hashCode(), 3) == 0 ? "Invoice" : "Order"; // fixed per key
            rows.add(OutboxEntry.pending(id, clock.instant(), "Evt", type, key, sequence, "{}", "{}", "0", null));
            captured++;
        }
        transactions.executeInTransaction(() -> store.append(rows));
        event("captured " + rows.size());
    }

    private void fault() {
        faults++;
        Node node = pick();
        switch (random.nextInt(10)) {
            case 0 -> {
                node.pausedUntil = nanos + (long) (CLAIM_TIMEOUT.toNanos() * (0.5 + random.nextDouble() * 2.5));
                event(node.id + " paused until " + TimeUnit.NANOSECONDS.toMillis(node.pausedUntil));
            }
            case 6 -> {
                // paused with a recording or an assignment about to commit (as if inside its transaction)
                Node busy = nodes.stream().filter(n -> !n.tasks.queued.isEmpty()).findFirst().orElse(node);
                busy.pausedUntil = nanos + (long) (CLAIM_TIMEOUT.toNanos() * (1 + random.nextDouble() * 2));
                event(busy.id + " paused with " + busy.tasks.queued.size() + " task(s) until "
                              + TimeUnit.NANOSECONDS.toMillis(busy.pausedUntil));
            }
            case 7 -> {
                node.databaseDownUntil = nanos + (long) (CLAIM_TIMEOUT.toNanos() * (0.5 + random.nextDouble() * 2));
                event(node.id + " loses its database (not the broker) until "
                              + TimeUnit.NANOSECONDS.toMillis(node.databaseDownUntil));
            }
            case 1 -> {
                node.kill();
                Node restarted = new Node(node.baseName);
                restarted.startAfter = nanos + TimeUnit.SECONDS.toNanos(random.nextInt(20));
                nodes.set(nodes.indexOf(node), restarted);
                event(node.id + " killed; restarts as " + restarted.id);
            }
            case 2 -> {
                broker.setDown(true);
                event("broker down");
            }
            case 3 -> {
                broker.setDown(false);
                event("broker up");
            }
            case 4 -> {
                node.connection.drop(random, false);
                event(node.id + "'s connection dropped");
            }
            case 8 -> {
                String topic = random.nextBoolean() ? INVOICES : TOPIC;
                broker.setTopicDown(topic, true);
                event(topic + " down (the other topic is served)");
            }
            case 9 -> {
                broker.topicsUp();
                event("every topic up");
            }
            default -> {
                if (broker.partitions() < 4) {
                    broker.addPartition();
                    event("partitions now " + broker.partitions());
                }
            }
        }
    }

    /**
     * The node owning the most segments loses its database for good while it still reaches the broker (its producers
     * stay open): the others must take its segments over.
     */
    private void cutOffBusiestNode() {
        nodes.stream().filter(node -> node.started && node.alive)
             .max(java.util.Comparator.comparingInt(node -> node.claims.ownedSegments().size()))
             .ifPresent(node -> {
                 node.databaseDownUntil = Long.MAX_VALUE;
                 event(node.id + " loses its database for good, owning " + node.claims.ownedSegments());
             });
    }

    private void heal() {
        broker.setDown(false);
        broker.topicsUp();
        nodes.forEach(node -> {
            node.pausedUntil = 0;
            node.startAfter = 0;
            node.databaseDownUntil = 0;
        });
        event("healed");
    }

    private int pending() {
        return count("SELECT COUNT(*) FROM " + JdbcOutboxStore.DEFAULT_TABLE + " WHERE status = 'PENDING'");
    }

    private int count(String sql) {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement select = connection.prepareStatement(sql);
             ResultSet rs = select.executeQuery()) {
            rs.next();
            return rs.getInt(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private Report report() {
        List<String> violations = new ArrayList<>();
        nodes.forEach(node -> event(node.id + (node.alive ? "" : " (dead)") + (node.databaseDown() ? " (no database)" : "")
                + " owns " + (node.started ? node.claims.ownedSegments() : "nothing (not started)")));
        Map<String, OutboxStatus> statuses = new HashMap<>();
        try (Connection connection = dataSource.getConnection();
             PreparedStatement select = connection.prepareStatement(
                     "SELECT id, status FROM " + JdbcOutboxStore.DEFAULT_TABLE);
             ResultSet rs = select.executeQuery()) {
            while (rs.next()) {
                statuses.put(rs.getString(1), OutboxStatus.valueOf(rs.getString(2)));
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        Map<String, Integer> stored = broker.storedCount();
        int sent = 0;
        int parked = 0;
        for (Map.Entry<String, OutboxStatus> row : statuses.entrySet()) {
            String id = row.getKey();
            int copies = stored.getOrDefault(id, 0);
            switch (row.getValue()) {
                case SENT -> {
                    sent++;
                    if (copies == 0) {
                        violations.add("row " + id + " recorded SENT but never stored");
                    }
                }
                case FAILED -> {
                    parked++;
                    if (!refused.contains(id)) {
                        violations.add("row " + id + " parked but the broker never refused it");
                    }
                }
                default -> violations.add("row " + id + " left " + row.getValue() + " after the faults stopped");
            }
            if (copies > 1) {
                violations.add("row " + id + " stored " + copies + " times");
            }
            if (refused.contains(id) && copies > 0) {
                violations.add("refused row " + id + " stored");
            }
        }
        Map<String, Long> lastPerKey = new HashMap<>();
        Set<String> seen = new HashSet<>();
        for (SimulatedBroker.Stored message : broker.log()) {
            if (!statuses.containsKey(message.rowId())) {
                violations.add("stored a row that was never committed: " + message.rowId());
            }
            if (!seen.add(message.rowId())) {
                continue;
            }
            Long last = lastPerKey.put(message.key(), message.aggregateSequence());
            if (last != null && last > message.aggregateSequence()) {
                violations.add("key " + message.key() + ": " + message.aggregateSequence() + " first stored after "
                                       + last);
            }
        }
        return new Report(seed, violations, statuses.size(), sent, parked, faults,
                          TimeUnit.NANOSECONDS.toMillis(nanos) - TimeUnit.HOURS.toMillis(1),
                          trace.subList(Math.max(0, trace.size() - 40), trace.size()));
    }

    private void event(String what) {
        trace.add(TimeUnit.NANOSECONDS.toMillis(nanos) + " ms: " + what);
        if (trace.size() > 400) {
            trace.subList(0, 200).clear();
        }
    }

    private JdbcTokenStore tokenStore(String nodeId) {
        return JdbcTokenStore.builder().connectionProvider(connections)
                             .serializer(JacksonSerializer.defaultSerializer())
                             .claimTimeout(CLAIM_TIMEOUT).nodeId(nodeId).build();
    }

    /** Runs a node's recordings and sequence-id assignments when the simulation says so, in an order it draws. */
    private final class Tasks extends AbstractExecutorService {
        private final List<Runnable> queued = new ArrayList<>();
        private boolean shutdown;

        @Override
        public void execute(Runnable command) {
            if (shutdown) {
                throw new java.util.concurrent.RejectedExecutionException("shut down");
            }
            queued.add(command);
        }

        boolean runOne() {
            if (queued.isEmpty()) {
                return false;
            }
            queued.remove(random.nextInt(queued.size())).run();
            return true;
        }

        @Override
        public void shutdown() {
            shutdown = true;
        }

        @Override
        public List<Runnable> shutdownNow() {
            shutdown = true;
            List<Runnable> left = new ArrayList<>(queued);
            queued.clear();
            return left;
        }

        @Override
        public boolean isShutdown() {
            return shutdown;
        }

        @Override
        public boolean isTerminated() {
            return shutdown && queued.isEmpty();
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) {
            return isTerminated();
        }
    }

    /** One node: its claims, its pipeline, its connection to the broker; a restart makes a new one. */
    private final class Node implements RelayThreads, RelayControl {
        private final String baseName;
        private final String id;
        private final Tasks tasks = new Tasks();
        private final SimulatedBroker.Connection connection;
        private SegmentClaims claims;
        private RelayPipeline pipeline;
        private boolean alive = true;
        private boolean started;
        private long startAfter;
        private long pausedUntil;
        private long databaseDownUntil;
        private long backoffUntil;
        private int debugged;
        /** This node's transactions: they fail while it cannot reach the database. */
        private final TransactionManager nodeTransactions = () -> {
            if (databaseDown()) {
                throw new IllegalStateException("database unreachable");
            }
            return transactions.startTransaction();
        };
        private long nextKeep;

        private Node(String baseName) {
            this.baseName = baseName;
            this.id = baseName + "#" + incarnations++;
            this.connection = broker.connect(id);
        }

        void start() {
            claims = SegmentClaims.builder().tokenStore(tokenStore(id)).transactionManager(nodeTransactions)
                                  .nodes(store).segmentCount(SEGMENTS).processorName(PROCESSOR).nodeId(id)
                                  .claimTimeout(CLAIM_TIMEOUT).clock(clock).nanoTime(() -> nanos).build();
            claims.initialize(); // the database is up at a start
            RelaySetup setup = new RelaySetup(
                    store, connection,
                    new RowTopics((type, annotated) -> Optional.of("Invoice".equals(type) ? INVOICES : TOPIC),
                                  CapturedAggregates::none),
                    nodeTransactions, 20, 40, Duration.ofMillis(200), ACK_TIMEOUT, clock, () -> nanos, id,
                    (entry, kind, attempts) -> kind.isRetryable()
                            ? FailurePolicy.Decision.retryAfter(Duration.ofMillis(100 * Math.min(attempts, 10)))
                            : FailurePolicy.Decision.park(),
                    OutboxMetrics.NOOP, () -> EntryUpcaster.NONE, claims, true, SEGMENTS,
                    Set.copyOf(IntStream.range(0, SEGMENTS).boxed().toList()),
                    new FencedWrites(nodeTransactions, store, claims), new NotRecordedRows(), new TransportWatch(), this);
            pipeline = new RelayPipeline(setup, this);
            started = true;
            nextKeep = nanos + claims.roundInterval().toNanos();
            event(id + " started");
        }

        private boolean databaseDown() {
            return databaseDownUntil == Long.MAX_VALUE || nanos - databaseDownUntil < 0;
        }

        private boolean runnable() {
            if (!alive || nanos - pausedUntil < 0) {
                return false;
            }
            if (!started) {
                if (nanos - startAfter < 0 || databaseDown()) {
                    return false;
                }
                start();
            }
            return true;
        }

        void step() {
            if (!runnable() || nanos - backoffUntil < 0) {
                return;
            }
            try {
                pipeline.step();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            } catch (RuntimeException e) {
                if (!databaseDown()) {
                    event(id + " step failed: " + e);
                } else if (Boolean.getBoolean("simulation.debug") && debugged++ < 3) {
                    e.printStackTrace(System.out);
                }
                pipeline.abandon();
                backoffUntil = nanos + claims.roundInterval().toNanos();
            }
        }

        void runTask() {
            if (runnable()) {
                tasks.runOne();
            }
        }

        /** The claim keeper: extends the claims every round interval while the node runs (not paused). */
        void keepClaims() {
            if (started && alive && nanos - pausedUntil >= 0 && nanos - nextKeep >= 0) {
                nextKeep = nanos + claims.roundInterval().toNanos();
                try {
                    claims.keep();
                } catch (RuntimeException e) {
                    if (!databaseDown()) {
                        event(id + " keep failed: " + e);
                    }
                }
            }
        }

        /** Killed: nothing of it runs again, its connection drops; its claims expire. */
        void kill() {
            alive = false;
            tasks.shutdownNow();
            connection.drop(random, true);
        }

        @Override
        public ExecutorService pool(int count, String relayName, String suffix) {
            return tasks;
        }

        @Override
        public void await(Semaphore signals, long waitNanos) {
            signals.drainPermits(); // the simulation decides what happens next: never wait
        }

        @Override
        public boolean running() {
            return alive;
        }

        @Override
        public boolean takeRescanRequest() {
            return false;
        }

        @Override
        public boolean takeWakeUp() {
            return true;
        }
    }
}
