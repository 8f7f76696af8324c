package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.store.OutboxStore;
import io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore;
import org.axonframework.common.jdbc.ConnectionProvider;
import org.axonframework.common.jdbc.UnitOfWorkAwareConnectionProviderWrapper;
import org.axonframework.common.transaction.Transaction;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.eventhandling.tokenstore.jdbc.GenericTokenTableFactory;
import org.axonframework.eventhandling.tokenstore.jdbc.JdbcTokenStore;
import org.axonframework.serialization.json.JacksonSerializer;
import org.axonframework.spring.jdbc.SpringDataSourceConnectionProvider;
import org.axonframework.spring.messaging.unitofwork.SpringTransactionManager;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Every write of the relay to a segment's rows is fenced by the segment's claim in the same transaction: a node that
 * lost its claim while it was paused inside such a transaction has the write rolled back, whatever its local clock
 * says. H2 with one shared transaction for the outbox and Axon's JDBC token store, as in a Spring application.
 */
class OutboxRelayFencingTest {

    private static final String PROCESSOR = "outbox";
    private static final long TAKEN_OVER_SEQUENCE = 9_999_999;

    private final JdbcDataSource dataSource = new JdbcDataSource();
    private final TransactionManager transactions;
    private final ConnectionProvider connections;
    private final JdbcOutboxStore store;
    private final List<String> sent = new CopyOnWriteArrayList<>();
    private final CountDownLatch assigning = new CountDownLatch(1);
    private final CountDownLatch resume = new CountDownLatch(1);
    private final CountDownLatch assignmentEnded = new CountDownLatch(1);
    private final ThreadLocal<Boolean> inAssignment = new ThreadLocal<>();
    private OutboxRelay relay;

    OutboxRelayFencingTest() {
        dataSource.setURL("jdbc:h2:mem:fencing-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        SpringTransactionManager spring = new SpringTransactionManager(new DataSourceTransactionManager(dataSource));
        transactions = () -> { // tells when the transaction of the paused assignment has ended, either way
            Transaction transaction = spring.startTransaction();
            return new Transaction() {
                @Override
                public void commit() {
                    try {
                        transaction.commit();
                    } finally {
                        ended();
                    }
                }

                @Override
                public void rollback() {
                    try {
                        transaction.rollback();
                    } finally {
                        ended();
                    }
                }
            };
        };
        connections = new UnitOfWorkAwareConnectionProviderWrapper(new SpringDataSourceConnectionProvider(dataSource));
        store = JdbcOutboxStore.builder().connectionProvider(connections).segmentCount(1).build();
        store.createSchema();
        transactions.executeInTransaction(() -> tokenStore().createSchema(GenericTokenTableFactory.INSTANCE));
    }

    private void ended() {
        if (Boolean.TRUE.equals(inAssignment.get())) {
            inAssignment.remove();
            assignmentEnded.countDown();
        }
    }

    @AfterEach
    void stop() {
        resume.countDown();
        if (relay != null) {
            relay.shutdown();
        }
    }

    private JdbcTokenStore tokenStore() {
        return JdbcTokenStore.builder().connectionProvider(connections)
                             .serializer(JacksonSerializer.defaultSerializer())
                             .claimTimeout(Duration.ofSeconds(1)).nodeId("a").build();
    }

    /**
     * Node a is paused just before it writes a row's broker sequence id; meanwhile its claim passes to node b, which
     * gives the row its own (higher) id. When a resumes, its write must not replace b's id: with a's lower id on the
     * row, a later resolution by b would compare it with what the broker stored under b's ids and record SENT a row
     * the broker never stored.
     */
    @Test
    void aSequenceIdWrittenAfterTheClaimPassedToAnotherNodeIsRolledBack() throws Exception {
        store.append(List.of(OutboxEntry.pending("A-0", Instant.now(), "Evt", "Order", "A", 0, "{}", "{}", "0",
                                                 null)));
        relay = OutboxRelay.builder()
                           .store(pausingAssignments(store))
                           .publisher(new SequencedTransport())
                           .topicResolver((type, annotated) -> Optional.of("topic"))
                           .transactionManager(transactions)
                           .pollInterval(Duration.ofMillis(50))
                           .segmentClaims(SegmentClaims.builder().tokenStore(this::tokenStore)
                                                       .transactionManager(transactions).segmentCount(1)
                                                       .processorName(PROCESSOR).nodeId("a")
                                                       .claimTimeout(Duration.ofSeconds(1)).build())
                           .build();
        relay.start();
        assertThat(assigning.await(30, TimeUnit.SECONDS)).as("the relay assigns the row an id").isTrue();

        // while a is paused: its claim passes to b, and b gives the row its id
        takeOverAs("b");
        store.assignSequences(Map.of("A-0", TAKEN_OVER_SEQUENCE));
        resume.countDown();

        assertThat(assignmentEnded.await(30, TimeUnit.SECONDS)).as("a's assignment transaction ends").isTrue();
        assertThat(brokerSequenceOf("A-0")).isEqualTo(TAKEN_OVER_SEQUENCE);
        assertThat(sent).as("a sends nothing of a segment it lost").isEmpty();

        // the failed assignment was handled, also if its signal came as the relay stopped: no wait for the ack timeout
        long stopping = System.nanoTime();
        relay.shutdown();
        assertThat(Duration.ofNanos(System.nanoTime() - stopping)).isLessThan(Duration.ofSeconds(30));
    }

    private long brokerSequenceOf(String id) throws SQLException {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement select = connection.prepareStatement(
                     "SELECT broker_sequence FROM " + JdbcOutboxStore.DEFAULT_TABLE + " WHERE id = ?")) {
            select.setString(1, id);
            try (ResultSet rs = select.executeQuery()) {
                assertThat(rs.next()).isTrue();
                return rs.getLong(1);
            }
        }
    }

    /**
     * The relay thread is held up inside a fetch for longer than a claim round's interval (a slow statement): the
     * claim keeper extends the node's claims meanwhile, so they do not lapse (which would close the segment's
     * producers and make it resolve the segment again).
     */
    @Test
    void claimsAreKeptWhileTheRelayThreadIsHeldUp() throws Exception {
        CountDownLatch fetching = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        OutboxStore slowFetches = before(store, method -> {
            if (method.startsWith("fetchPending") && fetching.getCount() > 0
                    && Thread.currentThread().getName().equals("outbox-relay")) {
                fetching.countDown();
                if (!release.await(60, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("not released");
                }
            }
        });
        SegmentClaims claims = SegmentClaims.builder().tokenStore(this::tokenStore).transactionManager(transactions)
                                            .segmentCount(1).processorName(PROCESSOR).nodeId("a")
                                            .claimTimeout(Duration.ofSeconds(5)).build();
        relay = OutboxRelay.builder()
                           .store(slowFetches)
                           .publisher(new SequencedTransport())
                           .topicResolver((type, annotated) -> Optional.of("topic"))
                           .transactionManager(transactions)
                           .pollInterval(Duration.ofMillis(50))
                           .segmentClaims(claims)
                           .build();
        relay.start();
        try {
            assertThat(fetching.await(30, TimeUnit.SECONDS)).as("the relay thread is held up in a fetch").isTrue();
            long heldUpWith = claims.validUntilNanos(0);
            await().atMost(Duration.ofSeconds(4)) // within the claim timeout: the keeper stops after it
                   .until(() -> claims.validUntilNanos(0) > heldUpWith);
            assertThat(release.getCount()).as("still held up").isEqualTo(1);
        } finally {
            release.countDown();
        }
    }

    /** What node b's claim of segment 0 looks like in the token table: its owner, extended just now. */
    private void takeOverAs(String node) throws SQLException {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement update = connection.prepareStatement(
                     "UPDATE TokenEntry SET owner = ?, timestamp = ? WHERE processorName = ? AND segment = 0")) {
            update.setString(1, node);
            update.setString(2, Instant.now().plusSeconds(60).toString());
            update.setString(3, PROCESSOR);
            assertThat(update.executeUpdate()).isEqualTo(1);
        }
        try (Connection connection = dataSource.getConnection();
             PreparedStatement select = connection.prepareStatement(
                     "SELECT owner FROM TokenEntry WHERE processorName = ? AND segment = 0")) {
            select.setString(1, PROCESSOR);
            try (ResultSet rs = select.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo(node);
            }
        }
    }

    /** The store, whose sequence id assignments wait (inside their transaction) until the test resumes them. */
    private OutboxStore pausingAssignments(OutboxStore delegate) {
        return before(delegate, method -> {
            if (method.equals("assignSequences")) {
                inAssignment.set(true);
                assigning.countDown();
                if (!resume.await(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("not resumed");
                }
            }
        });
    }

    /** Something done before each call of the store's methods (by name), on the calling thread. */
    @FunctionalInterface
    private interface BeforeCall {
        void before(String method) throws InterruptedException;
    }

    /** {@code delegate}, with {@code hook} run before each of its methods. */
    private static OutboxStore before(OutboxStore delegate, BeforeCall hook) {
        return (OutboxStore) Proxy.newProxyInstance(
                OutboxStore.class.getClassLoader(), new Class<?>[]{OutboxStore.class}, (proxy, method, args) -> {
                    hook.before(method.getName());
                    try {
                        return method.invoke(delegate, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** A transport with sequence ids whose sends all succeed; the broker has stored nothing yet. */
    private final class SequencedTransport implements OutboxPublisher {
        @Override
        public CompletableFuture<?> publish(OutboxEntry entry, String destination) {
            throw new UnsupportedOperationException("sends carry sequence ids");
        }

        @Override
        public CompletableFuture<?> publish(OutboxEntry entry, String destination, int segment, long sequenceId) {
            sent.add(entry.id() + "#" + sequenceId);
            return CompletableFuture.completedFuture("ok");
        }

        @Override
        public boolean supportsSequenceIds() {
            return true;
        }

        @Override
        public CompletableFuture<Session> openSession(String destination, int segment) {
            return CompletableFuture.completedFuture(Session.NOTHING_STORED);
        }
    }
}
