package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore;
import org.axonframework.common.transaction.NoTransactionManager;
import org.axonframework.eventhandling.tokenstore.jdbc.GenericTokenTableFactory;
import org.axonframework.eventhandling.tokenstore.jdbc.JdbcTokenStore;
import org.axonframework.serialization.json.JacksonSerializer;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The claim rounds of two nodes on one JDBC token store and node table (H2), on a fake monotonic clock. */
class ClaimRoundsTest {

    private static final String PROCESSOR = "outbox";
    private static final ClaimTiming TIMING = new ClaimTiming(Duration.ofSeconds(10));

    private final JdbcDataSource dataSource = new JdbcDataSource();
    private final JdbcOutboxStore nodeTable;
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

    ClaimRoundsTest() {
        dataSource.setURL("jdbc:h2:mem:rounds-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        nodeTable = JdbcOutboxStore.builder().connectionProvider(dataSource::getConnection).build();
        nodeTable.createSchema();
        tokenStore("setup").createSchema(GenericTokenTableFactory.INSTANCE);
    }

    private JdbcTokenStore tokenStore(String nodeId) {
        return JdbcTokenStore.builder().connectionProvider(dataSource::getConnection)
                             .serializer(JacksonSerializer.defaultSerializer())
                             .claimTimeout(TIMING.claimTimeout()).nodeId(nodeId).build();
    }

    /** One node's claim parts. */
    private final class Node {
        final ClaimTokens tokens;
        final OwnedClaims owned = new OwnedClaims(nanos::get);
        final SequenceReservations sequences = new SequenceReservations();
        final ClaimRounds rounds;

        Node(String nodeId, int segments) {
            tokens = new ClaimTokens(() -> tokenStore(nodeId), NoTransactionManager.instance(), PROCESSOR, () -> { });
            NodeHeartbeats heartbeats = new NodeHeartbeats(nodeTable, NoTransactionManager.instance(), nodeId,
                                                           TIMING.claimTimeout());
            rounds = new ClaimRounds(tokens, owned, sequences, heartbeats, TIMING, segments, nodeId,
                                     Clock.systemUTC(), nanos::get);
            tokens.initialize(segments);
        }
    }

    @Nested
    class Rounds {

        @Test
        void aNodeAloneClaimsEverySegmentValidForHalfTheClaimTimeout() {
            Node a = new Node("a", 4);

            SegmentClaims.Changes changes = a.rounds.round();

            assertThat(changes.gained()).containsExactly(0, 1, 2, 3);
            assertThat(changes.lost()).isEmpty();
            assertThat(a.owned.view()).containsExactlyInAnyOrder(0, 1, 2, 3);
            assertThat(a.owned.validUntilNanos(2)).isEqualTo(nanos.get() + TIMING.validityNanos());
            a.sequences.reserved(a.sequences.toReserve(Map.of(2, 1)));
            assertThat(a.sequences.next(2)).isEqualTo(1); // started above the token's reservation (none)
        }

        @Test
        void aRoundIsDueOnceARoundIntervalPassed() {
            Node a = new Node("a", 1);
            assertThat(a.rounds.due()).isTrue();

            a.rounds.round();
            assertThat(a.rounds.due()).isFalse();

            nanos.addAndGet(TIMING.roundInterval().toNanos());
            assertThat(a.rounds.due()).isTrue();
        }

        @Test
        void aSecondNodeGetsTheSurplusTheFirstReleases() {
            Node a = new Node("a", 4);
            a.rounds.round();
            Node b = new Node("b", 4);
            assertThat(b.rounds.round().gained()).isEmpty(); // all claimed by a, which is alive
            a.rounds.round(); // a sees b now

            Set<Integer> surplus = a.rounds.surplus();
            assertThat(surplus).containsExactly(2, 3);
            surplus.forEach(a.rounds::release);

            assertThat(a.owned.view()).containsExactlyInAnyOrder(0, 1);
            assertThat(b.rounds.round().gained()).containsExactly(2, 3);
        }

        @Test
        void aClaimTakenByAnotherNodeIsFoundLostAndForgotten() {
            Node a = new Node("a", 2);
            a.rounds.round();
            tokenStore("a").releaseClaim(PROCESSOR, 1); // as if it had expired
            tokenStore("b").fetchToken(PROCESSOR, 1);

            SegmentClaims.Changes changes = a.rounds.round();

            assertThat(changes.lost()).containsExactly(1);
            assertThat(a.owned.owns(1)).isFalse();
            assertThat(a.owned.view()).containsExactly(0);
        }
    }

    @Nested
    class Keeping {

        @Test
        void extendsOnlyTheClaimsStillHeldAndLeavesTheLostOnesToTheNextRound() {
            Node a = new Node("a", 2);
            a.rounds.round();
            long roundValidity = a.owned.validUntilNanos(0);
            tokenStore("a").releaseClaim(PROCESSOR, 1);
            tokenStore("b").fetchToken(PROCESSOR, 1);
            nanos.addAndGet(1_000);

            a.rounds.keep();

            assertThat(a.owned.validUntilNanos(0)).isEqualTo(roundValidity + 1_000);
            assertThat(a.owned.validUntilNanos(1)).isEqualTo(roundValidity);
            assertThat(a.owned.owns(1)).isTrue();
        }

        @Test
        void doesNothingBeforeTheTokensAreInitialized() {
            ClaimTokens tokens = new ClaimTokens(() -> {
                throw new AssertionError("not looked up");
            }, NoTransactionManager.instance(), PROCESSOR, () -> { });
            OwnedClaims owned = new OwnedClaims(nanos::get);
            owned.add(0, 5);
            ClaimRounds rounds = new ClaimRounds(tokens, owned, new SequenceReservations(),
                                                 new NodeHeartbeats(null, NoTransactionManager.instance(), "a",
                                                                    TIMING.claimTimeout()),
                                                 TIMING, 1, "a", Clock.systemUTC(), nanos::get);

            rounds.keep();

            assertThat(owned.validUntilNanos(0)).isEqualTo(5);
        }
    }

    @Test
    void releasingAllLetsAnotherNodeClaimEverySegmentAtOnce() {
        Node a = new Node("a", 3);
        a.rounds.round();

        a.rounds.releaseAll();

        assertThat(a.owned.view()).isEmpty();
        assertThat(new Node("b", 3).rounds.round().gained()).containsExactly(0, 1, 2);
    }

    @Test
    void releasingAllAtShutdownLogsOneLineForEverySegment() {
        Node a = new Node("a", 16);
        a.rounds.round();
        assertThat(CapturedLogs.during(SegmentClaims.class, a.rounds::releaseAll)).filteredOn(event -> event.getFormattedMessage().contains("released"))
                                 .singleElement()
                                 .extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                                 .asString()
                                 .contains("released segments [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]");
    }
}
