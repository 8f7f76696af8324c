package io.github.pulsaroutbox.pulsar;

import io.github.pulsaroutbox.OutboxEntry;
import io.micrometer.observation.ObservationRegistry;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The properties {@link OutboxMessages} gives a row's message. */
class OutboxMessagesTest {

    private static final Instant AT = Instant.parse("2026-12-06T04:00:00.123456Z");

    private static OutboxMessages messages(Map<String, String> metadataProperties,
                                           MessagePropertiesCustomizer customizer) {
        return new OutboxMessages("orders-service", type -> "OrderPlaced", metadataProperties, customizer, false,
                                  type -> Object.class, new PublishObservations(ObservationRegistry.NOOP));
    }

    private static OutboxEntry row(String metadata, String traceParent) {
        return OutboxEntry.pending("event-1", AT, "com.example.OrderPlaced", "Order", "order-7", 3, "{}", metadata,
                                   "2", traceParent);
    }

    @Nested
    class CloudEventsAndAggregate {

        @Test
        void everyMessageCarriesItsIdLogicalTypeSourceTimeAndAggregate() {
            Map<String, String> properties = messages(Map.of(), (entry, p) -> {
            }).properties(row("{}", null));

            assertThat(properties).containsEntry(OutboxMessageProperties.ID, "event-1")
                                  .containsEntry(OutboxMessageProperties.TYPE, "OrderPlaced")
                                  .containsEntry(OutboxMessageProperties.SOURCE, "orders-service")
                                  .containsEntry(OutboxMessageProperties.TIME, AT.toString())
                                  .containsEntry(OutboxMessageProperties.SUBJECT, "order-7")
                                  .containsEntry(OutboxMessageProperties.SCHEMA_VERSION, "2")
                                  .containsEntry(OutboxMessageProperties.AGGREGATE_TYPE, "Order")
                                  .containsEntry(OutboxMessageProperties.AGGREGATE_ID, "order-7")
                                  .containsEntry(OutboxMessageProperties.AGGREGATE_SEQUENCE, "3")
                                  .doesNotContainKey(OutboxMessageProperties.TRACE_PARENT);
        }

        @Test
        void ceTimeHasMicrosecondsWhateverThePrecisionOfTheTimestamp() {
            assertThat(OutboxMessages.time(Instant.parse("2026-12-06T04:00:00Z")))
                    .isEqualTo("2026-12-06T04:00:00.000000Z");
            assertThat(OutboxMessages.time(Instant.parse("2026-12-06T04:00:00.123Z"))) // an event store's millis
                    .isEqualTo("2026-12-06T04:00:00.123000Z");
            assertThat(OutboxMessages.time(Instant.parse("2026-12-06T04:00:00.123456789Z")))
                    .isEqualTo("2026-12-06T04:00:00.123456Z");
        }

        @Test
        void ceTimeIsWhatTheRfc3339FormatterPrintsForAnyInstant() {
            DateTimeFormatter rfc3339 = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
                                                         .withZone(ZoneOffset.UTC);
            Random random = new Random(24);
            List<Instant> instants = new ArrayList<>(List.of( // the years around four digits, leap day, before 1970
                    Instant.EPOCH, Instant.parse("0000-01-01T00:00:00Z"),
                    Instant.parse("9999-12-31T23:59:59.999999999Z"), Instant.parse("+10000-01-01T00:00:00Z"),
                    Instant.parse("-0001-12-31T23:59:59.5Z"),
                    Instant.parse("2024-02-29T23:59:59.000001Z"), Instant.ofEpochSecond(-1, 999_999_999)));
            for (int i = 0; i < 10_000; i++) {
                instants.add(Instant.ofEpochSecond(random.nextLong(-62_167_219_200L, 253_402_300_800L),
                                                   random.nextInt(1_000_000_000)));
            }
            for (Instant instant : instants) {
                assertThat(OutboxMessages.time(instant)).as(instant.toString())
                        .isEqualTo(rfc3339.format(instant.truncatedTo(ChronoUnit.MICROS)));
            }
        }

        @Test
        void theCapturedTraceParentIsPassedOn() {
            String traceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
            assertThat(messages(Map.of(), (entry, p) -> {
            }).properties(row("{}", traceParent))).containsEntry(OutboxMessageProperties.TRACE_PARENT, traceParent);
        }
    }

    @Nested
    class Metadata {

        @Test
        void onlyTheListedMetadataEntriesLeaveTheServiceUnderTheirPropertyNames() {
            Map<String, String> properties = messages(PulsarOutboxPublisher.DEFAULT_METADATA_PROPERTIES, (e, p) -> {
            }).properties(row("{\"correlationId\":\"c-1\",\"traceId\":\"t-1\",\"secret\":\"s\"}", null));

            assertThat(properties).containsEntry(OutboxMessageProperties.CORRELATION_ID, "c-1")
                                  .containsEntry(OutboxMessageProperties.CAUSATION_ID, "t-1")
                                  .doesNotContainValue("s");
        }

        @Test
        void metadataThatIsNotAJsonObjectSendsNoMetadataAndFailsNothing() {
            assertThat(messages(PulsarOutboxPublisher.DEFAULT_METADATA_PROPERTIES, (e, p) -> {
            }).properties(row("not json", null))).doesNotContainKeys(OutboxMessageProperties.CORRELATION_ID,
                                                                      OutboxMessageProperties.CAUSATION_ID);
        }

        @Test
        void theCustomizerHasTheLastWord() {
            Map<String, String> properties = messages(Map.of(), (entry, p) -> {
                p.put("x-tenant", "acme");
                p.remove(OutboxMessageProperties.AGGREGATE_TYPE);
            }).properties(row("{}", null));

            assertThat(properties).containsEntry("x-tenant", "acme")
                                  .doesNotContainKey(OutboxMessageProperties.AGGREGATE_TYPE);
        }
    }
}
