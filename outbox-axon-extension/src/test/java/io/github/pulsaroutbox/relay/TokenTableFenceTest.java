package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.store.OutboxNodes;
import io.github.pulsaroutbox.store.OutboxNodes.Claim;
import io.github.pulsaroutbox.store.TokenTable;
import org.axonframework.common.DateTimeUtils;
import org.axonframework.eventhandling.tokenstore.inmemory.InMemoryTokenStore;
import org.axonframework.eventhandling.tokenstore.jdbc.JdbcTokenStore;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.Mockito.mock;

class TokenTableFenceTest {

    private static final TokenTable CONFIGURED = new TokenTable("relay_tokens", "p", "s", "o", "t");

    /** A token table in memory per table name (segment → claim), recording the fence calls. */
    private static final class FakeNodes implements OutboxNodes {
        final Map<String, Map<Integer, Claim>> tables = new HashMap<>();
        final List<List<Integer>> extended = new ArrayList<>();
        final List<List<Integer>> held = new ArrayList<>();
        int updated;
        /** What {@link #holdClaims} answers: -1, a database without shared row locks (H2). */
        int heldCount = -1;

        @Override
        public int holdClaims(TokenTable table, String processorName, String owner, Collection<Integer> segments) {
            held.add(List.copyOf(segments));
            return heldCount;
        }

        @Override
        public int extendClaims(TokenTable table, String processorName, String owner, Collection<Integer> segments,
                                String timestamp) {
            extended.add(List.copyOf(segments));
            return updated;
        }

        @Override
        public int markClaim(TokenTable table, String processorName, int segment, String timestamp) {
            Map<Integer, Claim> rows = tables.get(table.table());
            if (rows == null) {
                throw new IllegalStateException("no such table");
            }
            Claim claim = rows.get(segment);
            if (claim == null) {
                return 0;
            }
            rows.put(segment, new Claim(claim.owner(), timestamp));
            return 1;
        }

        @Override
        public Optional<Claim> claimOf(TokenTable table, String processorName, int segment) {
            return Optional.ofNullable(tables.getOrDefault(table.table(), Map.of()).get(segment));
        }

        /** The token store writing its claim of {@code segment} to {@code table}. */
        void storeWrites(TokenTable table, int segment, String owner) {
            tables.get(table.table()).put(segment, new Claim(owner, DateTimeUtils.formatInstant(Instant.now())));
        }

        @Override
        public void heartbeat(String nodeId, Instant at, String segments) {
        }

        @Override
        public List<Node> liveNodes(Instant since) {
            return List.of();
        }

        @Override
        public void leave(String nodeId) {
        }

        @Override
        public void forgetNodes(Instant before) {
        }
    }

    private final FakeNodes nodes = new FakeNodes();

    private TokenTableFence fence(TokenTable... candidates) {
        return new TokenTableFence(nodes, List.of(candidates), "outbox", Duration.ofSeconds(10));
    }

    @Nested
    class Verifying {

        @Test
        void acceptsTheTableTheTokenStoreWroteInTheSameTransaction() {
            nodes.tables.put("TokenEntry", new HashMap<>(Map.of(0, new Claim("a", "2001-01-01T00:00:00Z"))));

            Claim claim = fence(TokenTable.JDBC).verify(TokenTable.JDBC, 0,
                                                        () -> nodes.storeWrites(TokenTable.JDBC, 0, "a"));

            assertThat(claim.owner()).isEqualTo("a");
        }

        @Test
        void refusesATableTheTokenStoreDidNotWriteEvenWithAFreshClaimInIt() {
            String fresh = DateTimeUtils.formatInstant(Instant.now());
            nodes.tables.put("token_entry", new HashMap<>(Map.of(0, new Claim("a", fresh))));
            nodes.tables.put("TokenEntry", new HashMap<>(Map.of(0, new Claim("a", fresh))));

            assertThatThrownBy(() -> fence(TokenTable.JPA).verify(TokenTable.JPA, 0,
                                                                  () -> nodes.storeWrites(TokenTable.JDBC, 0, "a")))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("did not write");
        }

        @Test
        void refusesATableWithoutTheSegmentsTokenOrWithoutAnOwner() {
            nodes.tables.put("token_entry", new HashMap<>());
            assertThatThrownBy(() -> fence(TokenTable.JPA).verify(TokenTable.JPA, 0, () -> { }))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("no single token");

            nodes.tables.get("token_entry").put(0, new Claim(null, "x"));
            assertThatThrownBy(() -> fence(TokenTable.JPA).verify(TokenTable.JPA, 0,
                                                                  () -> nodes.storeWrites(TokenTable.JPA, 0, null)))
                    .isInstanceOf(IllegalStateException.class);
        }
    }

    @Nested
    class Probing {

        @Test
        void triesTheConfiguredTableFirstThenTheDefaultOfTheTokenStoresKind() {
            List<TokenTable> tried = new ArrayList<>();
            fence(CONFIGURED, TokenTable.JPA, TokenTable.JDBC).probe(mock(JdbcTokenStore.class), table -> {
                tried.add(table);
                throw new IllegalStateException("not it");
            });
            assertThat(tried).containsExactly(CONFIGURED, TokenTable.JDBC, TokenTable.JPA);

            tried.clear();
            fence(TokenTable.JPA, TokenTable.JDBC).probe(new InMemoryTokenStore(), table -> {
                tried.add(table);
                throw new IllegalStateException("not it");
            });
            assertThat(tried).containsExactly(TokenTable.JPA, TokenTable.JDBC);
        }

        @Test
        void takesTheFirstTableThatPassesAndStopsProbing() {
            TokenTableFence fence = fence(CONFIGURED, TokenTable.JPA, TokenTable.JDBC);
            fence.probe(new InMemoryTokenStore(), table -> {
                if (!table.equals(TokenTable.JDBC)) {
                    throw new IllegalStateException("not it");
                }
                return new Claim("a", DateTimeUtils.formatInstant(Instant.now()));
            });

            assertThat(fence.probed()).isTrue();
            assertThat(fence.table()).contains(TokenTable.JDBC);
        }

        @Test
        void givesUpAfterItsAttempts() {
            TokenTableFence fence = fence(TokenTable.JPA);
            for (int attempt = 1; attempt <= TokenTableFence.ATTEMPTS; attempt++) {
                assertThat(fence.probed()).isFalse();
                fence.probe(new InMemoryTokenStore(), table -> {
                    throw new IllegalStateException("lock timeout");
                });
            }
            assertThat(fence.probed()).isTrue();
            assertThat(fence.table()).isEmpty();
        }

        @Test
        void withoutANodeTableThereIsNothingToProbe() {
            TokenTableFence off = new TokenTableFence(null, List.of(TokenTable.JPA), "outbox", Duration.ofSeconds(1));
            assertThat(off.probed()).isTrue();
            assertThat(off.confirm(List.of(0))).isEqualTo(TokenTableFence.Confirmation.UNKNOWN);
        }
    }

    @Nested
    class Extending {

        @Test
        void isOffUntilATableIsFound() {
            assertThat(fence(TokenTable.JPA).confirm(List.of(0, 1))).isEqualTo(TokenTableFence.Confirmation.UNKNOWN);
            assertThat(nodes.extended).isEmpty();
        }

        @Test
        void succeedsOnlyWhenEveryDistinctSegmentsClaimWasExtended() {
            TokenTableFence fence = fence(TokenTable.JPA);
            fence.probe(new InMemoryTokenStore(), table -> new Claim("a", DateTimeUtils.formatInstant(Instant.now())));

            nodes.updated = 2;
            assertThat(fence.confirm(List.of(3, 1, 3))).as("segments 1 and 3, once each")
                    .isEqualTo(TokenTableFence.Confirmation.CONFIRMED);
            nodes.updated = 1;
            assertThat(fence.confirm(List.of(1, 3))).as("one claim is another node's: the token store answers")
                    .isEqualTo(TokenTableFence.Confirmation.UNKNOWN);
            assertThat(nodes.extended).hasSize(2);
        }

        @Test
        void locksTheClaimsSharedWhereTheDatabaseCanAndThenExtendsNothing() {
            TokenTableFence fence = fence(TokenTable.JPA);
            fence.probe(new InMemoryTokenStore(), table -> new Claim("a", DateTimeUtils.formatInstant(Instant.now())));

            nodes.heldCount = 2;
            assertThat(fence.confirm(List.of(3, 1, 3))).as("segments 1 and 3, once each")
                    .isEqualTo(TokenTableFence.Confirmation.CONFIRMED);
            nodes.heldCount = 1;
            assertThat(fence.confirm(List.of(1, 3))).as("one claim is another node's, read under the lock: final")
                    .isEqualTo(TokenTableFence.Confirmation.REFUSED);

            assertThat(nodes.held).hasSize(2);
            assertThat(nodes.extended).as("no update where the rows are locked shared").isEmpty();
        }
    }
}
