package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.PlainAxon;
import io.github.pulsaroutbox.store.OutboxNodes;
import io.github.pulsaroutbox.store.TokenTable;
import io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore;
import org.axonframework.common.AxonConfigurationException;
import org.axonframework.common.DateTimeUtils;
import org.axonframework.common.transaction.NoTransactionManager;
import org.axonframework.eventhandling.GapAwareTrackingToken;
import org.axonframework.eventhandling.tokenstore.UnableToClaimTokenException;
import org.axonframework.eventhandling.tokenstore.TokenStore;
import org.axonframework.eventhandling.tokenstore.inmemory.InMemoryTokenStore;
import org.axonframework.eventhandling.tokenstore.jdbc.GenericTokenTableFactory;
import org.axonframework.eventhandling.tokenstore.jdbc.JdbcTokenStore;
import org.axonframework.eventhandling.tokenstore.jdbc.TokenSchema;
import org.axonframework.serialization.json.JacksonSerializer;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.atLeastOnce;
import static org.mockito.Mockito.clearInvocations;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.spy;
import static org.mockito.Mockito.verify;

/** The relay's tokens of two nodes in one JDBC token store (H2). */
class ClaimTokensTest {

    private static final String PROCESSOR = "outbox";

    private final JdbcDataSource dataSource = new JdbcDataSource();
    private final AtomicInteger limitedWaits = new AtomicInteger();
    private final AtomicInteger restoredWaits = new AtomicInteger();
    private final WaitLimits countingLimits = WaitLimits.of(limitedWaits::incrementAndGet,
                                                            restoredWaits::incrementAndGet);

    ClaimTokensTest() {
        dataSource.setURL("jdbc:h2:mem:tokens-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        tokenStore("setup").createSchema(GenericTokenTableFactory.INSTANCE);
    }

    private JdbcTokenStore tokenStore(String nodeId) {
        return JdbcTokenStore.builder().connectionProvider(dataSource::getConnection)
                             .serializer(JacksonSerializer.defaultSerializer())
                             .claimTimeout(Duration.ofSeconds(10)).nodeId(nodeId).build();
    }

    private ClaimTokens node(String nodeId) {
        return new ClaimTokens(() -> tokenStore(nodeId), NoTransactionManager.instance(), PROCESSOR,
                               countingLimits);
    }

    private ClaimTokens initialized(String nodeId, int segments) {
        ClaimTokens tokens = node(nodeId);
        tokens.initialize(segments);
        return tokens;
    }

    @Nested
    class Initializing {

        @Test
        void createsTheTokensOnceForAllNodes() {
            initialized("a", 4);
            initialized("b", 4);

            assertThat(tokenStore("c").fetchSegments(PROCESSOR)).containsExactlyInAnyOrder(0, 1, 2, 3);
        }

        /*
         * Two nodes starting together on MariaDB: the loser's insert is a deadlock victim, and when it reads, the
         * winner has not committed yet (no segments visible). It tries again until it sees the winner's tokens.
         */
        @Test
        void aNodeThatLosesTheRaceToCreateTheTokensWaitsForTheWinners() {
            TokenStore store = org.mockito.Mockito.mock(TokenStore.class);
            org.mockito.Mockito.when(store.fetchSegments(PROCESSOR)).thenReturn(new int[0], new int[0], new int[0],
                                                                                new int[]{0, 1, 2, 3});
            org.mockito.Mockito.doThrow(new IllegalStateException("Deadlock found when trying to get lock"))
                               .when(store).initializeTokenSegments(org.mockito.ArgumentMatchers.eq(PROCESSOR),
                                                                    org.mockito.ArgumentMatchers.eq(4),
                                                                    org.mockito.ArgumentMatchers.any());
            ClaimTokens tokens = new ClaimTokens(() -> store, NoTransactionManager.instance(), PROCESSOR,
                                                 countingLimits);

            tokens.initialize(4);

            org.mockito.Mockito.verify(store, org.mockito.Mockito.times(3))
                               .initializeTokenSegments(org.mockito.ArgumentMatchers.eq(PROCESSOR),
                                                        org.mockito.ArgumentMatchers.eq(4),
                                                        org.mockito.ArgumentMatchers.any());
        }

        @Test
        void aNodeThatNeverSeesTokensFailsAfterBoundedAttempts() {
            TokenStore store = org.mockito.Mockito.mock(TokenStore.class);
            org.mockito.Mockito.when(store.fetchSegments(PROCESSOR)).thenReturn(new int[0]);
            org.mockito.Mockito.doThrow(new IllegalStateException("refused"))
                               .when(store).initializeTokenSegments(org.mockito.ArgumentMatchers.eq(PROCESSOR),
                                                                    org.mockito.ArgumentMatchers.eq(4),
                                                                    org.mockito.ArgumentMatchers.any());
            ClaimTokens tokens = new ClaimTokens(() -> store, NoTransactionManager.instance(), PROCESSOR,
                                                 countingLimits);

            assertThatThrownBy(() -> tokens.initialize(4)).isInstanceOf(AxonConfigurationException.class)
                                                         .hasMessageContaining("0 segment(s)");
            org.mockito.Mockito.verify(store, org.mockito.Mockito.times(ClaimTokens.INITIALIZE_ATTEMPTS))
                               .initializeTokenSegments(org.mockito.ArgumentMatchers.eq(PROCESSOR),
                                                        org.mockito.ArgumentMatchers.eq(4),
                                                        org.mockito.ArgumentMatchers.any());
        }

        @Test
        void aDifferentSegmentCountThanTheStoreHoldsFails() {
            initialized("a", 4);

            assertThatThrownBy(() -> initialized("b", 8)).isInstanceOf(AxonConfigurationException.class)
                                                          .hasMessageContaining("4 segment(s)")
                                                          .hasMessageContaining("pulsar-outbox.segments");
        }

        /* A node that writes rows without relaying them must split the outbox as the relays do. */
        @Test
        void aNodeThatDoesNotRelayChecksTheCountWithoutCreatingTokens() {
            node("writer").check(8); // nothing initialized yet: any count is accepted, nothing created
            assertThat(tokenStore("c").fetchSegments(PROCESSOR)).isEmpty();

            initialized("relay", 4);
            node("writer").check(4);
            assertThatThrownBy(() -> node("writer").check(8)).isInstanceOf(AxonConfigurationException.class)
                                                             .hasMessageContaining("4 segment(s)")
                                                             .hasMessageContaining("configured with 8");
            assertThat(node("writer").initialized()).isFalse();
        }

        @Test
        void beforeItNothingIsFenced() {
            ClaimTokens tokens = node("a");

            assertThat(tokens.initialized()).isFalse();
            assertThatThrownBy(() -> tokens.fence(List.of(0))).isInstanceOf(UnableToClaimTokenException.class)
                                                              .hasMessageContaining("not initialized");
        }
    }

    @Nested
    class Claiming {

        @Test
        void aClaimedSegmentIsNoLongerAvailableToOthersAndItsClaimIsTheirsToExtendOnly() {
            ClaimTokens a = initialized("a", 2);
            ClaimTokens b = initialized("b", 2);

            assertThat(a.claim(0)).isZero();

            assertThat(b.available()).containsExactly(1);
            assertThatThrownBy(() -> b.claim(0)).isInstanceOf(UnableToClaimTokenException.class);
            assertThat(a.extend(List.of(0))).isEmpty();
            Map<Integer, UnableToClaimTokenException> notExtended = b.extend(List.of(0));
            assertThat(notExtended).containsOnlyKeys(0);
            assertThat(notExtended.get(0)).hasMessageContaining("owned by 'a'");
        }

        @Test
        void theReservedSequenceIdsGoWithTheSegmentToItsNextOwner() {
            ClaimTokens a = initialized("a", 1);
            a.claim(0);
            a.storeReserved(Map.of(0, 20_000L));
            a.release(0);

            ClaimTokens b = initialized("b", 1);

            assertThat(b.claim(0)).isEqualTo(20_000L);
        }

        @Test
        void fencingExtendsOnlyOwnClaims() {
            ClaimTokens a = initialized("a", 2);
            ClaimTokens b = initialized("b", 2);
            a.claim(0);
            b.claim(1);

            a.fence(Set.of(0));

            assertThatThrownBy(() -> a.fence(Set.of(0, 1))).isInstanceOf(UnableToClaimTokenException.class);
        }

        @Test
        void boundsTheWaitsOfEveryTransactionOfItsOwn() {
            ClaimTokens a = initialized("a", 1);
            int before = limitedWaits.get();
            int restoredBefore = restoredWaits.get();

            a.claim(0);
            a.extend(List.of(0));
            a.storeReserved(Map.of(0, 10L));
            a.release(0);

            assertThat(limitedWaits.get() - before).isEqualTo(4);
            assertThat(restoredWaits.get() - restoredBefore).as("each gives its connection's settings back")
                                                          .isEqualTo(4);
        }

        @Test
        void aTokenOfAnEventProcessorIsNotTakenForTheRelays() {
            InMemoryTokenStore store = new InMemoryTokenStore();
            store.initializeTokenSegments(PROCESSOR, 1, GapAwareTrackingToken.newInstance(5, Set.of()));
            ClaimTokens tokens = new ClaimTokens(() -> store, NoTransactionManager.instance(), PROCESSOR, () -> { });
            tokens.initialize(1);

            assertThatThrownBy(() -> tokens.claim(0)).isInstanceOf(AxonConfigurationException.class)
                                                     .hasMessageContaining("GapAwareTrackingToken")
                                                     .hasMessageContaining("belongs to an event processor");
        }
    }

    /*
     * The fast path of the fence: one round trip on the token store's own table, found at the first claim, in real
     * transactions (the outbox's and the token store's connections bound to them).
     */
    @Nested
    class FencingInOneRoundTrip {

        private final PlainAxon.H2Database db = PlainAxon.H2Database.create("fence");
        private final JdbcOutboxStore nodeTable = JdbcOutboxStore.builder().connectionProvider(db.connections())
                                                                 .build();
        private final java.util.Map<String, JdbcTokenStore> stores = new java.util.HashMap<>();

        FencingInOneRoundTrip() {
            store("setup", new TokenSchema()).createSchema(GenericTokenTableFactory.INSTANCE);
            nodeTable.createSchema(); // its node table holds the write the fence guards in one test
        }

        /** Node {@code nodeId}'s token store (one per node, spied: its extendClaim calls are counted). */
        private JdbcTokenStore store(String nodeId, TokenSchema schema) {
            return stores.computeIfAbsent(nodeId + schema.tokenTable(), k -> spy(JdbcTokenStore.builder()
                    .connectionProvider(db.connections()).serializer(JacksonSerializer.defaultSerializer())
                    .schema(schema).claimTimeout(Duration.ofSeconds(10)).nodeId(nodeId).build()));
        }

        private ClaimTokens node(String nodeId, TokenTable... configured) {
            return node(store(nodeId, new TokenSchema()), configured);
        }

        private ClaimTokens node(JdbcTokenStore store, TokenTable... configured) {
            List<TokenTable> tables = new java.util.ArrayList<>(List.of(configured));
            tables.add(TokenTable.JPA);
            tables.add(TokenTable.JDBC);
            return new ClaimTokens(() -> store, db.transactions(), PROCESSOR, () -> { },
                                   new TokenTableFence(nodeTable, tables, PROCESSOR, Duration.ofSeconds(10)));
        }

        private void fence(ClaimTokens tokens, List<Integer> segments) {
            db.transactions().executeInTransaction(() -> tokens.fence(segments));
        }

        private String timestamp(String table, int segment) throws SQLException {
            try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT timestamp FROM " + table + " WHERE segment = " + segment)) {
                assertThat(rs.next()).isTrue();
                return rs.getString(1);
            }
        }

        private void execute(String sql) throws SQLException {
            try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement()) {
                s.execute(sql);
            }
        }

        @Test
        void findsTheTokenStoresTableAtTheFirstClaimAndExtendsAllClaimsInOneRoundTrip() throws SQLException {
            ClaimTokens a = node("a");
            a.initialize(4);
            assertThat(a.fenceTable()).isEmpty();
            for (int segment = 0; segment < 4; segment++) {
                a.claim(segment);
            }
            assertThat(a.fenceTable()).contains(TokenTable.JDBC);
            execute("UPDATE TokenEntry SET timestamp = '2000-01-01T00:00:00Z'");
            clearInvocations(store("a", new TokenSchema()));

            fence(a, List.of(3, 1, 0, 2));

            verify(store("a", new TokenSchema()), never()).extendClaim(anyString(), anyInt());
            for (int segment = 0; segment < 4; segment++) {
                assertThat(timestamp("TokenEntry", segment)).isNotEqualTo("2000-01-01T00:00:00Z");
            }
        }

        @Test
        void aClaimAnotherNodeHoldsFailsTheFenceThroughTheTokenStoreAndRollsTheWriteBack() throws SQLException {
            ClaimTokens a = node("a");
            a.initialize(2);
            a.claim(0);
            a.claim(1);
            execute("UPDATE TokenEntry SET owner = 'b', timestamp = '" + DateTimeUtils.formatInstant(Instant.now())
                            + "' WHERE segment = 1"); // b took segment 1 over
            clearInvocations(store("a", new TokenSchema()));

            assertThatThrownBy(() -> db.transactions().executeInTransaction(() -> {
                nodeTable.heartbeat("write-under-the-fence", Instant.now(), "0,1");
                a.fence(List.of(0, 1));
            })).isInstanceOf(UnableToClaimTokenException.class);

            verify(store("a", new TokenSchema()), atLeastOnce()).extendClaim(anyString(), anyInt());
            assertThat(nodeTable.liveNodes(Instant.EPOCH)).as("the fenced write was rolled back").isEmpty();
            fence(a, List.of(0));
        }

        /*
         * Where the database locks the token rows shared, a claim found there not to be this node's is final: the
         * fence fails at once, without asking the token store (whose locking read would upgrade the shared lock).
         */
        @Test
        void aClaimFoundUnderASharedLockNotToBeThisNodesFailsTheFenceAtOnce() {
            int[] held = {2};
            OutboxNodes sharedLocks = spy(nodeTable); // the node table, on a database with shared row locks
            doAnswer(invocation -> held[0]).when(sharedLocks).holdClaims(any(), anyString(), anyString(), any());
            JdbcTokenStore store = store("a", new TokenSchema());
            ClaimTokens a = new ClaimTokens(() -> store, db.transactions(), PROCESSOR, () -> { },
                                            new TokenTableFence(sharedLocks, List.of(TokenTable.JDBC), PROCESSOR,
                                                                Duration.ofSeconds(10)));
            a.initialize(2);
            a.claim(0);
            a.claim(1);
            assertThat(a.fenceTable()).contains(TokenTable.JDBC);
            clearInvocations(store);

            fence(a, List.of(0, 1));
            held[0] = 1;
            assertThatThrownBy(() -> db.transactions().executeInTransaction(() -> {
                nodeTable.heartbeat("write-under-the-fence", Instant.now(), "0,1");
                a.fence(List.of(0, 1));
            })).isInstanceOf(UnableToClaimTokenException.class).hasMessageContaining("no longer this node's");

            verify(store, never()).extendClaim(anyString(), anyInt());
            assertThat(nodeTable.liveNodes(Instant.EPOCH)).as("the fenced write was rolled back").isEmpty();
        }

        @Test
        void aCopyOfATokenTableThatTheStoreDoesNotWriteIsNotTaken() throws SQLException {
            // a copy of the token table, configured (so tried first), holding this node's claim with a fresh timestamp
            execute("CREATE TABLE token_copy (processor_name VARCHAR(255), segment INT, owner VARCHAR(255), "
                            + "timestamp VARCHAR(255))");
            execute("INSERT INTO token_copy VALUES ('" + PROCESSOR + "', 0, 'a', '"
                            + DateTimeUtils.formatInstant(Instant.now()) + "')");
            String before = timestamp("token_copy", 0);
            ClaimTokens a = node("a", new TokenTable("token_copy", "processor_name", "segment", "owner",
                                                     "timestamp"));
            a.initialize(1);

            a.claim(0);

            assertThat(a.fenceTable()).contains(TokenTable.JDBC);
            assertThat(timestamp("token_copy", 0)).as("the probe's mark was rolled back").isEqualTo(before);
        }

        @Test
        void aConfiguredTokenSchemaIsFound() {
            TokenSchema schema = TokenSchema.builder().setTokenTable("relay_tokens")
                                            .setProcessorNameColumn("processor").build();
            store("a", schema).createSchema(GenericTokenTableFactory.INSTANCE);
            ClaimTokens a = node(store("a", schema), TokenTable.of(schema));
            a.initialize(2);

            a.claim(0);
            store("b", schema).fetchToken(PROCESSOR, 1);
            clearInvocations(store("a", schema));
            fence(a, List.of(0));

            assertThat(a.fenceTable()).contains(TokenTable.of(schema));
            verify(store("a", schema), never()).extendClaim(anyString(), anyInt());
            assertThatThrownBy(() -> fence(a, List.of(0, 1))).isInstanceOf(UnableToClaimTokenException.class);
        }

        @Test
        void withoutRealTransactionsOrAStoreWithSuchATableItFencesThroughTheStore() {
            InMemoryTokenStore store = new InMemoryTokenStore();
            ClaimTokens inMemory = new ClaimTokens(() -> store, db.transactions(), PROCESSOR, () -> { },
                                                   new TokenTableFence(nodeTable, List.of(TokenTable.JPA,
                                                                                          TokenTable.JDBC),
                                                                       PROCESSOR, Duration.ofSeconds(10)));
            inMemory.initialize(2);
            for (int attempt = 0; attempt < TokenTableFence.ATTEMPTS + 1; attempt++) {
                inMemory.claim(0);
            }
            fence(inMemory, List.of(0));
            assertThat(inMemory.fenceTable()).isEmpty();

            ClaimTokens autoCommit = new ClaimTokens(() -> store("c", new TokenSchema()),
                                                     NoTransactionManager.instance(), PROCESSOR, () -> { },
                                                     new TokenTableFence(nodeTable, List.of(TokenTable.JDBC),
                                                                         PROCESSOR, Duration.ofSeconds(10)));
            autoCommit.initialize(2);
            autoCommit.claim(1);
            assertThat(autoCommit.fenceTable()).as("no probe outside real transactions").isEmpty();
        }
    }
}
