package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore;
import org.axonframework.common.AxonConfigurationException;
import org.axonframework.eventhandling.tokenstore.jdbc.GenericTokenTableFactory;
import org.axonframework.eventhandling.tokenstore.jdbc.JdbcTokenStore;
import org.axonframework.serialization.json.JacksonSerializer;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Segment claims of two nodes on one JDBC token store and node table (H2). */
class SegmentClaimsTest {

    private final JdbcDataSource dataSource = new JdbcDataSource();
    private final JdbcOutboxStore nodes;
    private final String processor = "outbox-" + UUID.randomUUID();

    SegmentClaimsTest() {
        dataSource.setURL("jdbc:h2:mem:claims-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        nodes = JdbcOutboxStore.builder().connectionProvider(dataSource::getConnection).build();
        nodes.createSchema();
        tokenStore("setup").createSchema(GenericTokenTableFactory.INSTANCE);
    }

    private JdbcTokenStore tokenStore(String nodeId) {
        return JdbcTokenStore.builder().connectionProvider(dataSource::getConnection)
                             .serializer(JacksonSerializer.defaultSerializer())
                             .claimTimeout(Duration.ofSeconds(1)).nodeId(nodeId).build();
    }

    private SegmentClaims node(String nodeId, int segments) {
        SegmentClaims claims = SegmentClaims.builder().tokenStore(tokenStore(nodeId)).nodes(nodes)
                                            .processorName(processor).segmentCount(segments)
                                            .claimTimeout(Duration.ofSeconds(1)).nodeId(nodeId).build();
        claims.initialize();
        return claims;
    }

    @Test
    void twoNodesSplitTheSegmentsWithoutEverSharingOne() {
        SegmentClaims a = node("a", 16);
        assertThat(a.round().gained()).hasSize(16);
        SegmentClaims b = node("b", 16);
        assertThat(b.round().gained()).isEmpty(); // all claimed by a, which is alive
        a.round();
        Set<Integer> surplus = a.surplus();
        assertThat(surplus).hasSize(8);
        surplus.forEach(segment -> assertThat(a.isValid(segment)).as("draining").isFalse());
        surplus.forEach(a::release);
        assertThat(b.round().gained()).containsExactlyInAnyOrderElementsOf(surplus);

        Set<Integer> union = new HashSet<>(a.ownedSegments());
        union.addAll(b.ownedSegments());
        assertThat(union).hasSize(16);
        assertThat(a.ownedSegments()).doesNotContainAnyElementsOf(b.ownedSegments()).hasSize(8);
        assertThat(a.liveNodes()).isEqualTo(2);
    }

    @Test
    void aSilentNodeStopsSendingBeforeItsClaimsExpireAndAnotherTakesThemOver() {
        SegmentClaims a = node("a", 4);
        a.round();
        assertThat(a.validSegments()).hasSize(4);
        SegmentClaims b = node("b", 4);
        assertThat(b.round().gained()).isEmpty();

        // a makes no round any more (paused): after half the claim timeout it may not send
        await().atMost(Duration.ofSeconds(5)).until(() -> a.validSegments().isEmpty());
        // after the claim timeout, b takes everything over
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            b.round();
            return b.ownedSegments().size() == 4;
        });
        // a's next round finds its claims lost
        assertThat(a.round().lost()).hasSize(4);
        assertThat(a.ownedSegments()).isEmpty();
    }

    @Test
    void keepingExtendsTheClaimsWithoutARoundAndLeavesALostOneToTheNextRound() {
        SegmentClaims a = node("a", 2);
        a.round();
        await().atMost(Duration.ofSeconds(5)).until(() -> a.validSegments().isEmpty()); // no round: lapsed locally
        long lapsed = a.validUntilNanos(0);

        a.keep();

        assertThat(a.validUntilNanos(0)).isGreaterThan(lapsed);
        assertThat(a.validUntilNanos(1)).isGreaterThan(lapsed);

        // once the claims expired, b takes them; keeping does not extend what a lost, the next round says so
        SegmentClaims b = node("b", 2);
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            b.round();
            return b.ownedSegments().size() == 2;
        });
        long before = a.validUntilNanos(0);
        a.keep();
        assertThat(a.validUntilNanos(0)).isEqualTo(before);
        assertThat(a.round().lost()).containsExactly(0, 1);
    }

    @Test
    void sequenceIdsOfASegmentKeepGrowingAcrossOwners() {
        SegmentClaims a = node("a", 1);
        a.round();
        a.reserve(Map.of(0, 3));
        long first = a.nextSequence(0);
        a.nextSequence(0);
        long lastOfA = a.nextSequence(0);
        assertThat(lastOfA).isEqualTo(first + 2);
        a.release(0);

        SegmentClaims b = node("b", 1);
        assertThat(b.round().gained()).containsExactly(0);
        b.reserve(Map.of(0, 1));
        assertThat(b.nextSequence(0)).isGreaterThan(lastOfA);
        b.raise(0, 1_000_000);
        b.reserve(Map.of(0, 1));
        assertThat(b.nextSequence(0)).isEqualTo(1_000_001); // above what the broker reported stored
    }

    @Test
    void aDifferentSegmentCountThanTheTokenStoreHoldsFailsTheStart() {
        node("a", 8);
        assertThatThrownBy(() -> node("b", 16)).isInstanceOf(AxonConfigurationException.class)
                                                .hasMessageContaining("8 segment(s)")
                                                .hasMessageContaining("pulsar-outbox.segments");
    }
}
