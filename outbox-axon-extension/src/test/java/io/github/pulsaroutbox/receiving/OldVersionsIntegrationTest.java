package io.github.pulsaroutbox.receiving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.pulsar.PulsarOutboxPublisher;
import io.github.pulsaroutbox.testbroker.SharedPulsarBroker;
import org.apache.pulsar.client.api.PulsarClient;
import org.axonframework.common.stream.BlockingStream;
import org.axonframework.eventhandling.TrackedEventMessage;
import org.axonframework.serialization.SimpleSerializedType;
import org.axonframework.serialization.json.JacksonSerializer;
import org.axonframework.serialization.upcasting.event.IntermediateEventRepresentation;
import org.axonframework.serialization.upcasting.event.SingleEventUpcaster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Old schema versions on the real broker: a topic holds a deposit in revision 1 ({@code sum}) sent before the
 * producer's release, then one in revision 2 ({@code amount}); the receiving service's own Axon upcaster brings the
 * first to its current class as the source reads it, by the message's {@code ce_schemaversion}.
 */
class OldVersionsIntegrationTest {

    private final String topic = "persistent://public/default/old-versions-" + UUID.randomUUID();
    private PulsarClient client;

    @AfterEach
    void tearDown() throws Exception {
        if (client != null) {
            client.close();
        }
    }

    /** Revision 1 named the amount {@code sum}. */
    static final class RenameSum extends SingleEventUpcaster {
        @Override
        protected boolean canUpcast(IntermediateEventRepresentation representation) {
            return representation.getType().equals(new SimpleSerializedType(Deposits.Deposited.class.getName(),
                                                                              "1"));
        }

        @Override
        protected IntermediateEventRepresentation doUpcast(IntermediateEventRepresentation representation) {
            return representation.upcastPayload(new SimpleSerializedType(Deposits.Deposited.class.getName(), "2"),
                                                JsonNode.class, json -> {
                        ObjectNode node = (ObjectNode) json;
                        node.set("amount", node.remove("sum"));
                        return node;
                    });
        }
    }

    @Test
    void anOlderRevisionArrivesAsTheCurrentClass() throws Exception {
        client = PulsarClient.builder().serviceUrl(SharedPulsarBroker.serviceUrl()).build();
        try (PulsarOutboxPublisher publisher = PulsarOutboxPublisher.builder().pulsarClient(client).build()) {
            Deposits.publish(publisher, topic, List.of(
                    OutboxEntry.pending("u-1-0", Instant.now(), Deposits.Deposited.class.getName(), "Account", "u-1",
                                        0, "{\"account\":\"u-1\",\"sum\":9}", "{}", "1", null),
                    OutboxEntry.pending("u-1-1", Instant.now(), Deposits.Deposited.class.getName(), "Account", "u-1",
                                        1, "{\"account\":\"u-1\",\"amount\":4}", "{}", "2", null)));
        }
        OutboxMessageConverter converter =
                OutboxMessageConverter.builder().serializer(JacksonSerializer.defaultSerializer())
                                      .types(Deposits.Deposited.class).upcasters(new RenameSum()).build();
        PulsarStreamableMessageSource source = PulsarStreamableMessageSource.builder().pulsarClient(client)
                                                                            .topic(topic).converter(converter)
                                                                            .build();

        List<Object> read = new ArrayList<>();
        try (BlockingStream<TrackedEventMessage<?>> stream = source.openStream(null)) {
            while (read.size() < 2 && stream.hasNextAvailable(30, TimeUnit.SECONDS)) {
                read.add(stream.nextAvailable().getPayload());
            }
        }
        assertThat(read).containsExactly(new Deposits.Deposited("u-1", 9), new Deposits.Deposited("u-1", 4));
    }
}
