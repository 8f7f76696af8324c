package org.axonframework.extensions.outbox.relay;

import org.axonframework.common.AxonConfigurationException;
import org.axonframework.extensions.outbox.OutboxEntry;
import org.axonframework.extensions.outbox.OutboxStatus;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiFunction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class OutboxRelayTest {

    private final InMemoryOutboxStore store = new InMemoryOutboxStore();
    private final List<String> published = new CopyOnWriteArrayList<>();

    @Test
    void marksRowsSentOnlyAfterAcknowledgement() throws Exception {
        append("A", 0, 1, 2);
        List<CompletableFuture<Object>> acks = new ArrayList<>();
        OutboxRelay relay = relay((entry, topic) -> {
            CompletableFuture<Object> ack = new CompletableFuture<>();
            acks.add(ack);
            return ack;
        }, Duration.ofSeconds(5));

        CompletableFuture<OutboxRelay.PassResult> pass = CompletableFuture.supplyAsync(() -> {
            try {
                return relay.relayPass();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> acks.size() == 3);
        assertThat(store.count(OutboxStatus.SENT)).isZero();
        assertThat(pass).isNotDone();

        acks.forEach(a -> a.complete("ok"));
        assertThat(pass.get().sent()).isEqualTo(3);
        assertThat(store.count(OutboxStatus.SENT)).isEqualTo(3);
    }

    @Test
    void failedRowStaysPendingAndLaterRowsOfItsAggregateWaitWhileOthersFlow() throws Exception {
        append("A", 0, 1, 2);
        append("B", 0, 1);
        OutboxRelay relay = relay((entry, topic) -> {
            published.add(entry.aggregateId() + entry.aggregateSequence());
            if (entry.aggregateId().equals("A") && entry.aggregateSequence() == 1) {
                return CompletableFuture.failedFuture(new IllegalStateException("broker said no"));
            }
            return CompletableFuture.completedFuture("ok");
        }, Duration.ofSeconds(5));

        relay.relayPass();

        assertThat(published).containsExactly("A0", "A1", "B0", "B1"); // A2 is not even sent after A1 failed
        assertThat(status("A", 0)).isEqualTo(OutboxStatus.SENT);
        OutboxEntry failed = entry("A", 1);
        assertThat(failed.status()).isEqualTo(OutboxStatus.PENDING);
        assertThat(failed.attempts()).isEqualTo(1);
        assertThat(failed.lastError()).contains("broker said no");
        assertThat(status("A", 2)).isEqualTo(OutboxStatus.PENDING);
        assertThat(status("B", 0)).isEqualTo(OutboxStatus.SENT);
        assertThat(status("B", 1)).isEqualTo(OutboxStatus.SENT);
    }

    @Test
    void rowAcknowledgedAfterAnEarlierFailureOfItsAggregateIsResentAfterIt() throws Exception {
        append("A", 0, 1);
        CompletableFuture<Object> first = new CompletableFuture<>();
        Map<Long, CompletableFuture<Object>> acks = Map.of(0L, first,
                                                           1L, CompletableFuture.completedFuture("ok"));
        OutboxRelay relay = relay((entry, topic) -> acks.get(entry.aggregateSequence()), Duration.ofSeconds(5));
        first.completeExceptionally(new IllegalStateException("timeout"));

        relay.relayPass();

        // seq 1 was acknowledged, but after seq 0 failed: it must be sent again after seq 0, so it stays pending
        assertThat(status("A", 0)).isEqualTo(OutboxStatus.PENDING);
        assertThat(status("A", 1)).isEqualTo(OutboxStatus.PENDING);
    }

    @Test
    void rowWithoutTopicStaysPendingWithError() throws Exception {
        append("A", 0);
        OutboxRelay relay = OutboxRelay.builder()
                                       .store(store)
                                       .publisher((entry, topic) -> CompletableFuture.completedFuture("ok"))
                                       .topicResolver((type, annotated) -> Optional.empty())
                                       .build();
        relay.relayPass();
        OutboxEntry entry = entry("A", 0);
        assertThat(entry.status()).isEqualTo(OutboxStatus.PENDING);
        assertThat(entry.lastError()).contains("No topic").contains("Order");
    }

    @Test
    void unacknowledgedWithinAckTimeoutStaysPending() throws Exception {
        append("A", 0);
        OutboxRelay relay = relay((entry, topic) -> new CompletableFuture<>(), Duration.ofMillis(200));
        relay.relayPass();
        assertThat(entry("A", 0).status()).isEqualTo(OutboxStatus.PENDING);
        assertThat(entry("A", 0).lastError()).contains("ack timeout");
    }

    @Test
    void publisherThrowingSynchronouslyIsAFailedAttempt() throws Exception {
        append("A", 0);
        OutboxRelay relay = relay((entry, topic) -> {
            throw new IllegalArgumentException("boom");
        }, Duration.ofSeconds(1));
        relay.relayPass();
        assertThat(entry("A", 0).lastError()).contains("boom");
    }

    @Test
    void runningRelayPublishesWhenWokenUp() {
        OutboxRelay relay = OutboxRelay.builder()
                                       .store(store)
                                       .publisher((entry, topic) -> {
                                           published.add(topic + ":" + entry.aggregateId());
                                           return CompletableFuture.completedFuture("ok");
                                       })
                                       .topicResolver((type, annotated) -> Optional.of("t"))
                                       .pollInterval(Duration.ofMinutes(10))
                                       .build();
        relay.start();
        try {
            append("A", 0);
            relay.wakeUp();
            await().atMost(Duration.ofSeconds(5)).until(() -> store.count(OutboxStatus.SENT) == 1);
            assertThat(published).containsExactly("t:A");
        } finally {
            relay.shutdown();
        }
        assertThat(relay.isRunning()).isFalse();
    }

    @Test
    void builderRejectsMissingParts() {
        assertThatThrownBy(() -> OutboxRelay.builder().build()).isInstanceOf(AxonConfigurationException.class)
                                                               .hasMessageContaining("OutboxStore");
        assertThatThrownBy(() -> OutboxRelay.builder().batchSize(0)).isInstanceOf(AxonConfigurationException.class);
    }

    private OutboxRelay relay(BiFunction<OutboxEntry, String, CompletableFuture<?>> publisher, Duration ackTimeout) {
        return OutboxRelay.builder()
                          .store(store)
                          .publisher(publisher::apply)
                          .topicResolver((type, annotated) -> Optional.of("topic"))
                          .ackTimeout(ackTimeout)
                          .build();
    }

    private void append(String aggregateId, long... sequences) {
        List<OutboxEntry> entries = new ArrayList<>();
        for (long sequence : sequences) {
            entries.add(OutboxEntry.pending(aggregateId + "-" + sequence, Instant.now(), "Evt", "Order", aggregateId,
                                            sequence, "{}", "{}", "0"));
        }
        store.append(entries);
    }

    private OutboxEntry entry(String aggregateId, long sequence) {
        return store.find(aggregateId + "-" + sequence).orElseThrow();
    }

    private OutboxStatus status(String aggregateId, long sequence) {
        return entry(aggregateId, sequence).status();
    }
}
