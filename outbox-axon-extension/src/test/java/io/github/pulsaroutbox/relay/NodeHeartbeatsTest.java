package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.store.OutboxNodes;
import org.axonframework.common.transaction.Transaction;
import org.axonframework.common.transaction.TransactionManager;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNoException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** This node's heartbeat in the node table, and the count of live nodes that fair shares are computed from. */
class NodeHeartbeatsTest {

    private static final Instant T0 = Instant.parse("2024-05-01T10:00:00Z");
    private static final Duration CLAIM_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration LOCK_WAIT = Duration.ofMillis(2500);
    private static final Duration IDLE_LIMIT = Duration.ofSeconds(5);

    private final FakeNodes nodes = new FakeNodes();
    private final CountingTransactions transactions = new CountingTransactions(nodes);
    private final NodeHeartbeats heartbeats = new NodeHeartbeats(nodes, transactions, "me", CLAIM_TIMEOUT);

    private void beat(Instant at) {
        heartbeats.beat(at, new TreeSet<>(Set.of(5, 0, 3)), LOCK_WAIT, IDLE_LIMIT);
    }

    @Nested
    class Beat {

        @Test
        void writesThisNodesHeartbeatWithItsSegmentsInOneTransactionWithBoundedWaits() {
            beat(T0);

            assertThat(nodes.heartbeats).containsEntry("me", T0);
            assertThat(nodes.segments).containsEntry("me", "0,3,5");
            assertThat(nodes.limits).containsExactly(List.of(LOCK_WAIT, IDLE_LIMIT));
            assertThat(nodes.restores).as("the session's own limits given back in the same transaction").isOne();
            assertThat(transactions.commits).isEqualTo(1);
            assertThat(nodes.callsOutsideTransactions).isZero();
        }

        @Test
        void countsTheNodesWithAHeartbeatWithinTheClaimTimeout() {
            nodes.heartbeats.put("alive", T0.minusSeconds(9));
            nodes.heartbeats.put("just-stale", T0.minus(CLAIM_TIMEOUT));
            nodes.heartbeats.put("dead", T0.minusSeconds(60));

            beat(T0);

            assertThat(heartbeats.liveNodes()).isEqualTo(2); // "me" and "alive"
            assertThat(nodes.liveSince).containsExactly(T0.minus(CLAIM_TIMEOUT));
        }

        @Test
        void countsAtLeastThisNodeWhenTheTableListsNone() {
            nodes.listsNobody = true;

            beat(T0);

            assertThat(heartbeats.liveNodes()).isEqualTo(1);
        }

        @Test
        void aFailedBeatKeepsTheLastCount() {
            nodes.heartbeats.put("other", T0);
            beat(T0);
            nodes.failure = new IllegalStateException("database down");

            assertThatThrownBy(() -> beat(T0.plusSeconds(1))).hasMessage("database down");

            assertThat(heartbeats.liveNodes()).isEqualTo(2);
            assertThat(transactions.rollbacks).isEqualTo(1);
        }
    }

    @Nested
    class ForgettingStaleNodes {

        @Test
        void removesHeartbeatsOlderThanThirtyClaimTimeoutsAtTheFirstBeat() {
            nodes.heartbeats.put("long-dead", T0.minusSeconds(301));
            nodes.heartbeats.put("recently-dead", T0.minusSeconds(299));

            beat(T0);

            assertThat(nodes.forgotBefore).containsExactly(T0.minus(CLAIM_TIMEOUT.multipliedBy(30)));
            assertThat(nodes.heartbeats).containsOnlyKeys("me", "recently-dead");
        }

        @Test
        void removesThemAtMostOnceAMinute() {
            beat(T0);
            beat(T0.plusSeconds(30));
            beat(T0.plusSeconds(60));
            assertThat(nodes.forgotBefore).hasSize(1);

            beat(T0.plusSeconds(60).plusMillis(1));

            assertThat(nodes.forgotBefore).hasSize(2);
            assertThat(nodes.heartbeats.get("me")).isEqualTo(T0.plusSeconds(60).plusMillis(1)); // beats go on
        }

        @Test
        void aBeatThatFailedDoesNotPostponeTheNextRemoval() {
            nodes.failure = new IllegalStateException("database down");
            assertThatThrownBy(() -> beat(T0)).isInstanceOf(IllegalStateException.class);
            nodes.failure = null;

            beat(T0.plusSeconds(1));

            assertThat(nodes.forgotBefore).containsExactly(T0.plusSeconds(1).minus(CLAIM_TIMEOUT.multipliedBy(30)));
        }
    }

    @Nested
    class Leaving {

        @Test
        void removesThisNodesHeartbeat() {
            nodes.heartbeats.put("other", T0);
            beat(T0);

            heartbeats.leave();

            assertThat(nodes.heartbeats).containsOnlyKeys("other");
            assertThat(nodes.callsOutsideTransactions).isZero();
        }

        @Test
        void aFailureToLeaveIsNotThrown() {
            nodes.failure = new IllegalStateException("database down");

            assertThatNoException().isThrownBy(heartbeats::leave);
        }
    }

    @Nested
    class WithoutANodeTable {

        private final NodeHeartbeats alone = new NodeHeartbeats(null, transactions, "me", CLAIM_TIMEOUT);

        @Test
        void countsOnlyItselfAndTouchesNoDatabase() {
            alone.beat(T0, Set.of(0, 1), LOCK_WAIT, IDLE_LIMIT);
            alone.limitWaits(LOCK_WAIT, IDLE_LIMIT);
            alone.leave();

            assertThat(alone.liveNodes()).isEqualTo(1);
            assertThat(transactions.commits + transactions.rollbacks).isZero();
        }
    }

    @Test
    void limitsTheWaitsOfTheCallersTransaction() {
        heartbeats.limitWaits(LOCK_WAIT, IDLE_LIMIT);

        assertThat(nodes.limits).containsExactly(List.of(LOCK_WAIT, IDLE_LIMIT));
    }

    /** A node table in memory; every call checks that it runs inside a transaction. */
    private static final class FakeNodes implements OutboxNodes {
        final Map<String, Instant> heartbeats = new LinkedHashMap<>();
        final Map<String, String> segments = new LinkedHashMap<>();
        final List<List<Duration>> limits = new ArrayList<>();
        int restores;
        final List<Instant> liveSince = new ArrayList<>();
        final List<Instant> forgotBefore = new ArrayList<>();
        boolean inTransaction;
        int callsOutsideTransactions;
        boolean listsNobody;
        RuntimeException failure;

        private void call() {
            if (!inTransaction) {
                callsOutsideTransactions++;
            }
            if (failure != null) {
                throw failure;
            }
        }

        @Override
        public void heartbeat(String nodeId, Instant at, String owned) {
            call();
            heartbeats.put(nodeId, at);
            segments.put(nodeId, owned);
        }

        @Override
        public List<Node> liveNodes(Instant since) {
            call();
            liveSince.add(since);
            return listsNobody ? List.of() : heartbeats.entrySet().stream().filter(e -> e.getValue().isAfter(since))
                                                       .map(e -> new Node(e.getKey(), e.getValue(), "")).toList();
        }

        @Override
        public void leave(String nodeId) {
            call();
            heartbeats.remove(nodeId);
        }

        @Override
        public void forgetNodes(Instant before) {
            call();
            forgotBefore.add(before);
            heartbeats.values().removeIf(at -> at.isBefore(before));
        }

        @Override
        public void limitWaits(Duration lockWait, Duration idle) {
            limits.add(List.of(lockWait, idle));
        }

        @Override
        public void restoreWaits() {
            call();
            restores++;
        }
    }

    /** Transactions that tell the fake node table when one is open, and count how they ended. */
    private static final class CountingTransactions implements TransactionManager {
        private final FakeNodes nodes;
        int commits;
        int rollbacks;

        CountingTransactions(FakeNodes nodes) {
            this.nodes = nodes;
        }

        @Override
        public Transaction startTransaction() {
            nodes.inTransaction = true;
            return new Transaction() {
                @Override
                public void commit() {
                    nodes.inTransaction = false;
                    commits++;
                }

                @Override
                public void rollback() {
                    nodes.inTransaction = false;
                    rollbacks++;
                }
            };
        }
    }
}
