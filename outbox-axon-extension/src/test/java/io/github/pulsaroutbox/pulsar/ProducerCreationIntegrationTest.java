package io.github.pulsaroutbox.pulsar;

import io.github.pulsaroutbox.H2OutboxStores;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.relay.OutboxRelay;
import io.github.pulsaroutbox.relay.SegmentClaims;
import io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore;
import io.github.pulsaroutbox.testbroker.SharedPulsarBroker;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.ProducerBuilder;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.axonframework.eventhandling.tokenstore.inmemory.InMemoryTokenStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A topic whose lookup hangs (a broker that does not answer for it) next to a healthy topic, on the real broker: the
 * healthy topic's rows all flow while the hanging one is still being looked up, and once the broker answers, the held
 * rows follow in order. With or without segment claims (sessions per segment, or one shared producer per topic).
 */
class ProducerCreationIntegrationTest {

    private final String healthyTopic = "persistent://public/default/healthy-" + UUID.randomUUID();
    private final String stuckTopic = "persistent://public/default/stuck-" + UUID.randomUUID();
    /** The lookups and creations for the stuck topic that are held, each with what releases it. */
    private final List<Runnable> held = new CopyOnWriteArrayList<>();
    /** Whether the broker "does not answer" for the stuck topic (until the test releases it). */
    private volatile boolean holding = true;
    private PulsarClient client;
    private PulsarClient hanging;
    private PulsarOutboxPublisher publisher;
    private OutboxRelay relay;

    @AfterEach
    void tearDown() throws Exception {
        release();
        if (relay != null) {
            relay.shutdown();
        }
        if (publisher != null) {
            publisher.close();
        }
        client.close();
    }

    @ParameterizedTest(name = "segment claims: {0}")
    @ValueSource(booleans = {true, false})
    void aTopicWhoseLookupHangsHoldsUpOnlyItsOwnRows(boolean segmentClaims) throws Exception {
        client = PulsarClient.builder().serviceUrl(SharedPulsarBroker.serviceUrl()).build();
        hanging = hangingFor(client, stuckTopic);
        JdbcOutboxStore store = H2OutboxStores.newStore("producer-creation");
        // the client's creations time out after the send timeout: longer than the relay's ack timeout, so the relay's
        // own bound is what ends the wait here
        publisher = PulsarOutboxPublisher.builder().pulsarClient(hanging).sendTimeout(Duration.ofSeconds(25)).build();
        OutboxRelay.Builder builder = OutboxRelay.builder()
                                                 .store(store)
                                                 .publisher(publisher)
                                                 .topicResolver(PulsarTopicResolver.builder()
                                                                                   .map("Healthy", healthyTopic)
                                                                                   .map("Stuck", stuckTopic)
                                                                                   .build()::resolve)
                                                 .pollInterval(Duration.ofMillis(200))
                                                 // fewer rows per fetch than aggregates of the stuck topic: rows
                                                 // waiting for it must not use up the relay's working set
                                                 .batchSize(20)
                                                 // the held lookup counts as failed (TIMEOUT) after this
                                                 .ackTimeout(Duration.ofSeconds(30));
        if (segmentClaims) {
            builder.segmentClaims(SegmentClaims.builder().tokenStore(new InMemoryTokenStore())
                                               .segmentCount(store.segmentCount()).processorName("creation").build());
        }
        relay = builder.build();
        try (Consumer<byte[]> healthy = subscribe(healthyTopic); Consumer<byte[]> stuck = subscribe(stuckTopic)) {
            // the stuck topic's rows come first: the relay meets the hanging lookup before the healthy rows
            store.append(rows("Stuck", 30, 2));
            store.append(rows("Healthy", 30, 10));
            relay.start();

            await().atMost(Duration.ofSeconds(60)).untilAsserted(
                    () -> assertThat(store.count(OutboxStatus.SENT)).isEqualTo(300));
            assertThat(held).isNotEmpty(); // the stuck topic's lookup was asked for, and is still unanswered
            assertThat(store.count(OutboxStatus.PENDING)).isEqualTo(60);
            assertThat(store.count(OutboxStatus.FAILED)).isZero();
            // the healthy rows flowed while the stuck ones waited, not after their wait timed out
            for (OutboxEntry stuckRow : rows("Stuck", 30, 2)) {
                assertThat(store.find(stuckRow.id()).orElseThrow().entry().attempts()).isZero();
            }
            assertThat(inOrderPerKey(receive(healthy, 300))).isTrue();
            if (segmentClaims) { // unanswered past the ack timeout: reported, its rows retried (never parked for it)
                await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(
                        relay.health().unavailableDestinations()).containsKey(stuckTopic));
                assertThat(relay.health().unavailableDestinations().get(stuckTopic)).startsWith("TIMEOUT");
            }
            assertThat(store.count(OutboxStatus.FAILED)).isZero();

            // the broker answers: the held rows follow, in order
            release();
            relay.wakeUp();
            await().atMost(Duration.ofSeconds(90)).untilAsserted(
                    () -> assertThat(store.count(OutboxStatus.SENT)).isEqualTo(360));
            assertThat(inOrderPerKey(receive(stuck, 60))).isTrue();
            await().atMost(Duration.ofSeconds(10)).untilAsserted(
                    () -> assertThat(relay.health().unavailableDestinations()).isEmpty());
        }
    }

    private void release() {
        holding = false;
        List<Runnable> releasing = new ArrayList<>(held);
        held.clear();
        releasing.forEach(Runnable::run);
    }

    private Consumer<byte[]> subscribe(String topic) throws Exception {
        return client.newConsumer(Schema.BYTES).topic(topic).subscriptionName("audit")
                     .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest).subscribe();
    }

    private static List<Message<byte[]>> receive(Consumer<byte[]> consumer, int count) throws Exception {
        List<Message<byte[]>> messages = new ArrayList<>();
        while (messages.size() < count) {
            Message<byte[]> message = consumer.receive(30, TimeUnit.SECONDS);
            assertThat(message).as("message %d of %d", messages.size() + 1, count).isNotNull();
            messages.add(message);
            consumer.acknowledge(message);
        }
        assertThat(consumer.receive(500, TimeUnit.MILLISECONDS)).as("no more, no duplicate").isNull();
        return messages;
    }

    private static boolean inOrderPerKey(List<Message<byte[]>> messages) {
        Map<String, Long> last = new HashMap<>();
        for (Message<byte[]> message : messages) {
            long sequence = Long.parseLong(message.getProperty(OutboxMessageProperties.AGGREGATE_SEQUENCE));
            Long previous = last.put(message.getKey(), sequence);
            if ((previous == null && sequence != 0) || (previous != null && sequence != previous + 1)) {
                return false;
            }
        }
        return true;
    }

    private static List<OutboxEntry> rows(String type, int aggregates, int perAggregate) {
        List<OutboxEntry> rows = new ArrayList<>();
        IntStream.range(0, perAggregate).forEach(sequence -> IntStream.range(0, aggregates).forEach(
                aggregate -> rows.add(OutboxEntry.pending(type + "-" + aggregate + "-" + sequence, Instant.now(), "Evt",
                                                          type, type + "-" + aggregate, sequence, "{}", "{}", "0",
                                                          null))));
        return rows;
    }

    /**
     * The client, except that for {@code topic} partition lookups and producer creations do not answer until the test
     * releases them (then they are answered by the real client).
     */
    private PulsarClient hangingFor(PulsarClient real, String topic) {
        return (PulsarClient) Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[]{PulsarClient.class}, (proxy, method, args) -> {
                    if (holding && method.getName().equals("getPartitionsForTopic") && topic.equals(args[0])) {
                        return hold(real, method, args);
                    }
                    Object result = invoke(real, method, args);
                    return result instanceof ProducerBuilder<?> producerBuilder
                            ? hangingBuilder(producerBuilder, topic) : result;
                });
    }

    private Object hangingBuilder(ProducerBuilder<?> real, String topic) {
        String[] chosen = new String[1];
        return Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[]{ProducerBuilder.class},
                                      (proxy, method, args) -> {
            if (method.getName().equals("topic")) {
                chosen[0] = (String) args[0];
            }
            if (holding && method.getName().equals("createAsync") && topic.equals(chosen[0])) {
                return hold(real, method, args);
            }
            Object result = invoke(real, method, args);
            return result == real ? proxy : result;
        });
    }

    /** An answer that stays pending until the test releases it; then the real call answers it. */
    private CompletableFuture<Object> hold(Object real, Method method, Object[] args) {
        CompletableFuture<Object> answer = new CompletableFuture<>();
        held.add(() -> ((CompletableFuture<?>) invoke(real, method, args)).whenComplete(
                (result, error) -> complete(answer, result, error)));
        return answer;
    }

    private static void complete(CompletableFuture<Object> answer, Object result, Throwable error) {
        if (error != null) {
            answer.completeExceptionally(error);
        } else {
            answer.complete(result);
        }
    }

    private static Object invoke(Object target, Method method, Object[] args) {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw new IllegalStateException(e.getCause());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }
}
