package io.github.pulsaroutbox.relay;

import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.eventhandling.tokenstore.UnableToClaimTokenException;
import org.axonframework.eventhandling.tokenstore.inmemory.InMemoryTokenStore;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The relay's write transactions, with claims in Axon's in-memory token store (8 s claim timeout) and without: what
 * each transaction runs, in order, is logged by the transaction manager, the store and the token store.
 */
class FencedWritesTest {

    private final List<String> log = new ArrayList<>();
    private final TransactionManager transactions = LoggingTransactions.into(log);
    private final FencingTokenStore tokens = new FencingTokenStore();
    private final InMemoryOutboxStore store = new InMemoryOutboxStore() {
        @Override
        public void limitWaits(Duration lockWait, Duration idle) {
            log.add("limit waits " + lockWait.toSeconds() + " s, idle " + idle.toSeconds() + " s");
        }

        @Override
        public void restoreWaits() {
            log.add("restore waits");
        }
    };

    private SegmentClaims claims() {
        SegmentClaims claims = SegmentClaims.builder().tokenStore(tokens).segmentCount(4).processorName("outbox")
                                            .nodeId("a").claimTimeout(Duration.ofSeconds(8)).build();
        claims.initialize();
        return claims;
    }

    private String work() {
        log.add("work");
        return "result";
    }

    @Nested
    class WithClaims {

        @Test
        void aWriteBoundsItsWaitsAndEndsWithTheFenceOfItsSegmentsRightBeforeTheCommit() {
            FencedWrites writes = new FencedWrites(transactions, store, claims());

            assertThat(writes.write(Set.of(3, 1), FencedWritesTest.this::work)).isEqualTo("result");

            assertThat(log).containsExactly("begin", "limit waits 2 s, idle 4 s", "work", "fence 1", "fence 3",
                                            "restore waits", "commit");
        }

        @Test
        void aWriteByANodeThatLostTheClaimOfOneOfItsSegmentsIsRolledBack() {
            FencedWrites writes = new FencedWrites(transactions, store, claims());
            tokens.claimedElsewhere.add(3);

            assertThatThrownBy(() -> writes.write(Set.of(1, 3), FencedWritesTest.this::work))
                    .isInstanceOf(UnableToClaimTokenException.class);

            assertThat(log).containsExactly("begin", "limit waits 2 s, idle 4 s", "work", "fence 1", "restore waits",
                                            "rollback");
        }

        @Test
        void aWriteThatFailsIsRolledBackUnfenced() {
            FencedWrites writes = new FencedWrites(transactions, store, claims());

            assertThatThrownBy(() -> writes.write(Set.of(0), () -> {
                throw new IllegalStateException("statement failed");
            })).hasMessage("statement failed");

            assertThat(log).containsExactly("begin", "limit waits 2 s, idle 4 s", "restore waits", "rollback");
        }

        @Test
        void recordingSentRowsBoundsItsWaitsButIsNotFencedSoItCommitsAfterTheClaimsPassed() {
            FencedWrites writes = new FencedWrites(transactions, store, claims());
            tokens.claimedElsewhere.addAll(Set.of(0, 1, 2, 3));

            assertThat(writes.recordSent(FencedWritesTest.this::work)).isEqualTo("result");

            assertThat(log).containsExactly("begin", "limit waits 2 s, idle 4 s", "work", "restore waits", "commit");
        }
    }

    @Nested
    class WithoutClaims {

        private final FencedWrites writes = new FencedWrites(transactions, store, null);

        @Test
        void aWriteIsAPlainTransaction() {
            assertThat(writes.write(Set.of(0, 1), FencedWritesTest.this::work)).isEqualTo("result");

            assertThat(log).containsExactly("begin", "work", "commit");
        }

        @Test
        void recordingSentRowsIsAPlainTransaction() {
            assertThat(writes.recordSent(FencedWritesTest.this::work)).isEqualTo("result");

            assertThat(log).containsExactly("begin", "work", "commit");
        }

        @Test
        void aWriteThatFailsIsRolledBack() {
            assertThatThrownBy(() -> writes.recordSent(() -> {
                throw new IllegalStateException("statement failed");
            })).hasMessage("statement failed");

            assertThat(log).containsExactly("begin", "rollback");
        }
    }

    /**
     * The in-memory token store, in which this node ("a") holds every claim but those of {@link #claimedElsewhere}:
     * extending those fails as it does in a shared token store once another node took them over.
     */
    private final class FencingTokenStore extends InMemoryTokenStore {
        final Set<Integer> claimedElsewhere = new HashSet<>();

        @Override
        public void extendClaim(String processorName, int segment) {
            if (claimedElsewhere.contains(segment)) {
                throw new UnableToClaimTokenException("Segment " + segment + " is claimed by node b");
            }
            super.extendClaim(processorName, segment);
            log.add("fence " + segment);
        }
    }
}
