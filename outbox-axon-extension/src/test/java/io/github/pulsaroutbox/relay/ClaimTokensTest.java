package io.github.pulsaroutbox.relay;

import org.axonframework.common.AxonConfigurationException;
import org.axonframework.common.transaction.NoTransactionManager;
import org.axonframework.eventhandling.GapAwareTrackingToken;
import org.axonframework.eventhandling.tokenstore.UnableToClaimTokenException;
import org.axonframework.eventhandling.tokenstore.inmemory.InMemoryTokenStore;
import org.axonframework.eventhandling.tokenstore.jdbc.GenericTokenTableFactory;
import org.axonframework.eventhandling.tokenstore.jdbc.JdbcTokenStore;
import org.axonframework.serialization.json.JacksonSerializer;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The relay's tokens of two nodes in one JDBC token store (H2). */
class ClaimTokensTest {

    private static final String PROCESSOR = "outbox";

    private final JdbcDataSource dataSource = new JdbcDataSource();
    private final AtomicInteger limitedWaits = new AtomicInteger();

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
                               limitedWaits::incrementAndGet);
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

            a.claim(0);
            a.extend(List.of(0));
            a.storeReserved(Map.of(0, 10L));
            a.release(0);

            assertThat(limitedWaits.get() - before).isEqualTo(4);
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
}
