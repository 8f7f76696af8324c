package io.github.pulsaroutbox.receiving;

import brave.handler.MutableSpan;
import io.github.pulsaroutbox.BraveTracing;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.pulsar.PulsarOutboxPublisher;
import io.github.pulsaroutbox.testbroker.SharedPulsarBroker;
import org.apache.pulsar.client.api.PulsarClient;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.SimpleEventHandlerInvoker;
import org.axonframework.eventhandling.SubscribingEventProcessor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Producer to consumer in one trace, on the real broker: the outbox's publisher sends a row captured in a command's
 * trace (its send span named by the message's {@code traceparent}); a subscribing processor on the subscribable
 * source, with {@link ReceiveObservations}, handles the event in a consumer span whose parent is that send span, and
 * the handler runs inside it.
 */
class ReceiveTracingIntegrationTest {

    private static final String TRACE_ID = "5af92f3577b34da6a3ce929d0e0e4736";
    private static final String COMMAND_SPAN = "10f067aa0ba902b7";

    private final String topic = "persistent://public/default/receive-traced-" + UUID.randomUUID();
    private final BraveTracing tracing = new BraveTracing();
    private final Map<String, String> handledIn = new ConcurrentHashMap<>();
    private PulsarClient client;
    private PulsarSubscribableMessageSource source;
    private SubscribingEventProcessor processor;

    @AfterEach
    void tearDown() throws Exception {
        if (processor != null) {
            processor.shutDown();
        }
        if (source != null) {
            source.stop();
        }
        if (client != null) {
            client.close();
        }
        tracing.close();
    }

    @Test
    void theConsumersSpanIsAChildOfTheSendSpan() throws Exception {
        client = PulsarClient.builder().serviceUrl(SharedPulsarBroker.serviceUrl()).build();
        OutboxEntry row = OutboxEntry.pending("t-1-0", Instant.now(), Deposits.Deposited.class.getName(), "Account",
                                              "t-1", 0, "{\"account\":\"t-1\",\"amount\":5}", "{}", "0",
                                              "00-" + TRACE_ID + "-" + COMMAND_SPAN + "-01");
        try (PulsarOutboxPublisher publisher = PulsarOutboxPublisher.builder().pulsarClient(client)
                                                                    .observationRegistry(tracing.registry).build()) {
            Deposits.publish(publisher, topic, List.of(row));
        }
        source = PulsarSubscribableMessageSource.builder().pulsarClient(client).topic(topic).subscription("ledger")
                                                .converter(Deposits.converter()).build();
        processor = SubscribingEventProcessor.builder()
                                             .name("ledger")
                                             .eventHandlerInvoker(SimpleEventHandlerInvoker.builder()
                                                                                           .eventHandlers(new Ledger())
                                                                                           .build())
                                             .messageSource(source)
                                             .build();
        processor.registerHandlerInterceptor(new ReceiveObservations(tracing.registry, "ledger"));
        processor.start();

        await().atMost(Duration.ofSeconds(30)).until(() -> handledIn.containsKey("t-1")
                && tracing.finished.stream().anyMatch(span -> span.kind() == brave.Span.Kind.CONSUMER
                && "ledger receive".equals(span.name())));
        MutableSpan send = tracing.span(TRACE_ID, brave.Span.Kind.PRODUCER);
        MutableSpan receive = tracing.finished.stream().filter(span -> "ledger receive".equals(span.name()))
                                              .findFirst().orElseThrow();
        assertThat(receive.traceId()).as("one trace from command to consumer").isEqualTo(TRACE_ID);
        assertThat(receive.parentId()).as("the consumer's parent is the send").isEqualTo(send.id());
        assertThat(handledIn.get("t-1")).as("the handler runs in the consumer's span").isEqualTo(receive.id());
    }

    class Ledger {
        @EventHandler
        void on(Deposits.Deposited deposited) {
            handledIn.put(deposited.account(), tracing.tracer.currentSpan().context().spanId());
        }
    }
}
