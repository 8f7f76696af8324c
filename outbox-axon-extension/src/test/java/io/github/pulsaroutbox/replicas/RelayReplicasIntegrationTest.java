package io.github.pulsaroutbox.replicas;

import io.github.pulsaroutbox.NodeDatabase;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The replica chaos of {@link AbstractRelayReplicasIntegrationTest} on PostgreSQL ({@code OUTBOX_TEST_POSTGRES_URL}),
 * plus what rests on PostgreSQL's bounded waits: a node frozen inside a row-locking transaction, and a node that loses
 * its database but not the broker.
 */
class RelayReplicasIntegrationTest extends AbstractRelayReplicasIntegrationTest {

    @Override
    NodeDatabase database() {
        return NodeDatabase.POSTGRESQL;
    }

    /**
     * A node frozen (SIGSTOP) inside a transaction that holds row locks of its segments' rows: the database ends its
     * session after half the claim timeout (the locks go with it), and the other node's statements wait for locks at
     * most a quarter of the claim timeout, so it keeps its own claims, takes the frozen node's segments over once their
     * claims expire, and delivers every event once, in order.
     */
    @Test
    void aNodeFrozenInsideARowLockingTransactionHoldsUpNobody() throws Exception {
        int events = 600;
        Path control = twoNodesSharingTheSegments("frozen");
        Set<Integer> ownedByB = ownedBy().get("b");
        Files.writeString(control.resolve("armed"), "armed");
        AtomicInteger produced = new AtomicInteger();
        Thread producer = producer(events, Duration.ofSeconds(20), produced);
        producer.start();
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(control.resolve("inside-transaction")));
        signal("STOP", nodes.get("a").pid()); // frozen while its recording holds row locks
        try {
            await().atMost(Duration.ofSeconds(120)).untilAsserted(() -> assertThat(ownedBy())
                    .containsOnlyKeys("b").allSatisfy((node, segments) -> assertThat(segments).hasSize(16)));
            producer.join();
            awaitAllSent(events);
            String logOfB = Files.readString(logs.get(1));
            assertThat(logOfB).as("b never lost a claim of its own").doesNotContainPattern("lost \\[[0-9]")
                              .doesNotContain("lapsed");
            assertThat(ownedBy().get("b")).containsAll(ownedByB);
            assertDeliveredOnceInOrder("frozen", events);
        } finally {
            nodes.remove("a").destroyForcibly().waitFor(10, TimeUnit.SECONDS); // never resumed
        }
    }

    /**
     * A node that loses its database but not the broker: no claim round succeeds, so once its claims lapse locally it
     * closes their producers, and the other node, which takes the segments over when the claims expire, gets the
     * producer names, resolves the segments and delivers every event once, in order.
     */
    @Test
    void aNodeThatLosesItsDatabaseButNotTheBrokerHandsItsSegmentsOver() throws Exception {
        int events = 600;
        Path control = twoNodesSharingTheSegments("nodb");
        AtomicInteger produced = new AtomicInteger();
        Thread producer = producer(events, Duration.ofSeconds(20), produced);
        producer.start();
        await().atMost(Duration.ofSeconds(60)).until(() -> produced.get() >= events / 4);
        Files.writeString(control.resolve("database-down"), "down");
        await().atMost(Duration.ofSeconds(120)).untilAsserted(() -> assertThat(ownedBy())
                .containsOnlyKeys("b").allSatisfy((node, segments) -> assertThat(segments).hasSize(16)));
        producer.join();
        awaitAllSent(events);
        assertThat(Files.readString(logs.get(0))).as("a closed the producers of the segments it could not keep")
                                                 .contains("lapsed");
        assertDeliveredOnceInOrder("nodb", events);
    }
}
