package io.github.pulsaroutbox.upcasting;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.upcasting.current.CustomerRegistered;
import io.github.pulsaroutbox.upcasting.current.CustomerUpcasters;
import org.axonframework.serialization.SimpleSerializedType;
import org.axonframework.serialization.json.JacksonSerializer;
import org.axonframework.serialization.upcasting.event.IntermediateEventRepresentation;
import org.axonframework.serialization.upcasting.event.SingleEventUpcaster;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.ObjectMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AxonEntryUpcasterTest {

    private static final String TYPE = CustomerRegistered.class.getName();
    private final JacksonSerializer serializer = JacksonSerializer.defaultSerializer();
    private final ObjectMapper json = new ObjectMapper();

    private final AxonEntryUpcaster upcaster = AxonEntryUpcaster.builder()
                                                                .serializer(serializer)
                                                                .upcaster(new CustomerUpcasters.V1ToV2())
                                                                .upcaster(new CustomerUpcasters.V2ToV3())
                                                                .build();

    @Test
    void currentVersionIsTheRevisionOfTheClassOnTheClasspath() {
        assertThat(upcaster.currentVersion(TYPE)).contains("3");
        assertThat(upcaster.currentVersion(String.class.getName())).contains(OutboxEntry.NO_REVISION);
        assertThat(upcaster.currentVersion("com.acme.Gone")).isEmpty();
    }

    @Test
    void rowsAtVersionOneAndTwoArePublishedAtThree() throws Exception {
        OutboxEntry v1 = entry("1", "{\"customerId\":\"c-1\",\"name\":\"Ada Lovelace\",\"mail\":\"ada@example.com\"}");
        OutboxEntry v2 = entry("2", "{\"customerId\":\"c-2\",\"name\":\"Grace Hopper\",\"email\":\"grace@example.com\"}");

        OutboxEntry fromV1 = upcaster.upcast(v1);
        OutboxEntry fromV2 = upcaster.upcast(v2);

        assertThat(fromV1.version()).isEqualTo("3");
        assertThat(fromV1.eventType()).isEqualTo(TYPE);
        assertThat(json.readValue(fromV1.payload(), CustomerRegistered.class))
                .isEqualTo(new CustomerRegistered("c-1", "Ada", "Lovelace", "ada@example.com", false));
        assertThat(json.readValue(fromV2.payload(), CustomerRegistered.class))
                .isEqualTo(new CustomerRegistered("c-2", "Grace", "Hopper", "grace@example.com", false));
        assertThat(fromV1.id()).isEqualTo(v1.id());
        assertThat(fromV1.aggregateSequence()).isEqualTo(v1.aggregateSequence());
    }

    @Test
    void rowAtTheCurrentVersionIsReturnedUntouched() {
        OutboxEntry v3 = entry("3", "{ \"customerId\" : \"c-3\", \"unparsed\": true }");
        assertThat(upcaster.upcast(v3)).isSameAs(v3);
    }

    @Test
    void versionNewerThanTheCodeKnowsFails() {
        assertThatThrownBy(() -> upcaster.upcast(entry("4", "{}")))
                .isInstanceOf(UpcastFailedException.class)
                .hasMessageContaining("version 4 is not the current version 3")
                .hasMessageContaining("newer than the running code");
    }

    @Test
    void throwingUpcasterFailsWithItsReason() {
        assertThatThrownBy(() -> upcaster.upcast(entry("2", "{\"customerId\":\"c\",\"name\":\"Plato\",\"email\":\"p\"}")))
                .isInstanceOf(UpcastFailedException.class)
                .hasMessageContaining("cannot split the name 'Plato'");
    }

    @Test
    void unknownEventTypeFails() {
        OutboxEntry gone = OutboxEntry.pending("e", Instant.now(), "com.acme.Gone", "Customer", "c", 0, "{}", "{}",
                                               "1", null);
        assertThatThrownBy(() -> upcaster.upcast(gone)).isInstanceOf(UpcastFailedException.class)
                                                       .hasMessageContaining("not known to the running code");
    }

    @Test
    void droppingOrSplittingUpcastersFail() {
        AxonEntryUpcaster dropping = AxonEntryUpcaster.builder().serializer(serializer)
                                                      .upcaster(stream -> Stream.empty()).build();
        assertThatThrownBy(() -> dropping.upcast(entry("1", "{}"))).hasMessageContaining("dropped");
        AxonEntryUpcaster splitting = AxonEntryUpcaster.builder().serializer(serializer)
                                                       .upcaster(stream -> stream.flatMap(r -> Stream.of(r, r)))
                                                       .build();
        assertThatThrownBy(() -> splitting.upcast(entry("1", "{}"))).hasMessageContaining("split");
    }

    @Test
    void currentVersionCanBeConfiguredAndOutboxOnlyUpcastersRunLast() throws Exception {
        // the published contract is at 4: an outbox-only upcaster adds a field the event store never needs
        PublishedEventUpcaster toV4 = PublishedEventUpcaster.of(new SingleEventUpcaster() {
            @Override
            protected boolean canUpcast(IntermediateEventRepresentation r) {
                return r.getType().equals(new SimpleSerializedType(TYPE, "3"));
            }

            @Override
            protected IntermediateEventRepresentation doUpcast(IntermediateEventRepresentation r) {
                return r.upcastPayload(new SimpleSerializedType(TYPE, "4"),
                                       com.fasterxml.jackson.databind.JsonNode.class,
                                       n -> ((com.fasterxml.jackson.databind.node.ObjectNode) n).put("tier", "basic"));
            }
        });
        AxonEntryUpcaster published = AxonEntryUpcaster.builder().serializer(serializer)
                                                        .upcaster(new CustomerUpcasters.V1ToV2())
                                                        .upcaster(new CustomerUpcasters.V2ToV3())
                                                        .upcaster(toV4)
                                                        .currentVersion(TYPE, "4")
                                                        .build();
        OutboxEntry result = published.upcast(entry("1", "{\"customerId\":\"c\",\"name\":\"A B\",\"mail\":\"m\"}"));
        assertThat(result.version()).isEqualTo("4");
        assertThat(json.readTree(result.payload()).get("tier").asText()).isEqualTo("basic");
        assertThat(json.readTree(result.payload()).get("firstName").asText()).isEqualTo("A");
    }

    private static OutboxEntry entry(String version, String payload) {
        return OutboxEntry.pending("evt-" + version, Instant.now(), TYPE, "Customer", "c", 0, payload, "{}", version,
                                   null);
    }
}
