package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.capture.CapturedAggregates;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** Readying rows for sending: upcasting their payload and resolving their topic, or failing with what they lack. */
class RowPreparationTest {

    private final AtomicInteger upcasts = new AtomicInteger();
    private final AtomicReference<EntryUpcaster> upcaster = new AtomicReference<>(EntryUpcaster.NONE);
    private final AtomicReference<TopicResolver> resolver =
            new AtomicReference<>((type, annotated) -> Optional.of(type.toLowerCase() + "-events"));
    private final RowPreparation preparation = new RowPreparation(
            () -> {
                EntryUpcaster current = upcaster.get();
                return entry -> {
                    upcasts.incrementAndGet();
                    return current.upcast(entry);
                };
            },
            new RowTopics((type, annotated) -> resolver.get().resolve(type, annotated), CapturedAggregates::none));

    private static OutboxEntry entry(String payload) {
        return OutboxEntry.pending("A-0", Instant.EPOCH, "OrderPlaced", "Order", "A", 0, payload, "{}", "1", null);
    }

    private static RelayRow row(OutboxEntry entry) {
        return new RelayRow(entry, 1);
    }

    @Nested
    class ARowThatMayBeSent {

        @Test
        void getsItsUpcastEntryAndTheTopicConfiguredForItsAggregateType() {
            upcaster.set(entry -> entry.upcastTo("OrderPlacedV2", "{\"total\":2}", "2"));
            OutboxEntry stored = entry("{\"amount\":2}");
            RelayRow row = row(stored);

            assertThat(preparation.prepare(row)).isNull();

            assertThat(row.sent.eventType()).isEqualTo("OrderPlacedV2");
            assertThat(row.sent.payload()).isEqualTo("{\"total\":2}");
            assertThat(row.sent.version()).isEqualTo("2");
            assertThat(row.entry).isSameAs(stored);
            assertThat(row.topic).isEqualTo("order-events");
        }

        @Test
        void goesToTheTopicStoredAtCaptureWithoutAskingTheResolver() {
            resolver.set((type, annotated) -> {
                throw new AssertionError("the row's own topic applies");
            });
            RelayRow row = row(entry("{}").withTopic("captured-topic"));

            assertThat(preparation.prepare(row)).isNull();

            assertThat(row.topic).isEqualTo("captured-topic");
        }

        @Test
        void isUpcastByTheUpcasterConfiguredNow() {
            RelayRow first = row(entry("{}"));
            preparation.prepare(first);
            upcaster.set(entry -> entry.upcastTo("OrderPlaced", "{\"v\":3}", "3"));
            RelayRow second = row(entry("{}"));
            preparation.prepare(second);

            assertThat(first.sent.version()).isEqualTo("1");
            assertThat(second.sent.version()).isEqualTo("3");
        }

        @Test
        void mayHaveAPayloadThatMerelyContainsNull() {
            RelayRow row = row(entry("{\"discount\":null}"));

            assertThat(preparation.prepare(row)).isNull();
        }
    }

    @Nested
    class ARowThatCannotBeSent {

        @Test
        void withAPayloadUnserializableAtCaptureIsUnreadableWithoutBeingUpcast() {
            RelayRow row = row(entry(RowPreparation.PARKED_AT_CAPTURE));

            Attempt attempt = preparation.prepare(row);

            assertThat(attempt.kind()).isEqualTo(FailureKind.UNREADABLE_PAYLOAD);
            assertThat(attempt.error()).contains("could not be serialized at capture");
            assertThat(upcasts).hasValue(0);
            assertThat(row.topic).isNull();
        }

        @Test
        void whoseUpcastFailsIsUpcastFailedWithTheUpcastersMessage() {
            upcaster.set(entry -> {
                throw new IllegalStateException("version 4 is newer than this code knows");
            });
            RelayRow row = row(entry("{}"));

            assertThat(preparation.prepare(row))
                    .isEqualTo(new Attempt(FailureKind.UPCAST_FAILED, "version 4 is newer than this code knows"));
            assertThat(row.topic).isNull();
        }

        @Test
        void whoseUpcasterHitsALinkageErrorOrOverflowsItsStackIsUpcastFailed() {
            upcaster.set(entry -> {
                throw new NoClassDefFoundError("com/acme/OldPayload");
            });
            assertThat(preparation.prepare(row(entry("{}"))))
                    .isEqualTo(new Attempt(FailureKind.UPCAST_FAILED, "com/acme/OldPayload"));

            upcaster.set(entry -> {
                throw new StackOverflowError();
            });
            assertThat(preparation.prepare(row(entry("{}"))))
                    .isEqualTo(new Attempt(FailureKind.UPCAST_FAILED, "java.lang.StackOverflowError"));
        }

        @Test
        void withoutATopicForItsAggregateTypeHasNoRoute() {
            resolver.set((type, annotated) -> Optional.empty());
            RelayRow row = row(entry("{}"));

            Attempt attempt = preparation.prepare(row);

            assertThat(attempt.kind()).isEqualTo(FailureKind.NO_ROUTE);
            assertThat(attempt.error()).isEqualTo("No topic is configured for aggregate type 'Order'");
            assertThat(row.topic).isNull();
        }

        @Test
        void whoseTopicCannotBeResolvedHasNoRoute() {
            resolver.set((type, annotated) -> {
                throw new IllegalArgumentException("'bad topic' is not a valid topic name");
            });
            RelayRow row = row(entry("{}"));

            Attempt attempt = preparation.prepare(row);

            assertThat(attempt.kind()).isEqualTo(FailureKind.NO_ROUTE);
            assertThat(attempt.error()).contains("'Order'").contains("'bad topic' is not a valid topic name");
            assertThat(row.topic).isNull();
        }

        @Test
        void withoutATopicMaySendOnceOneIsConfigured() {
            resolver.set((type, annotated) -> Optional.empty());
            assertThat(preparation.prepare(row(entry("{}")))).isNotNull();

            resolver.set((type, annotated) -> Optional.of("configured-later"));
            RelayRow row = row(entry("{}"));

            assertThat(preparation.prepare(row)).isNull();
            assertThat(row.topic).isEqualTo("configured-later");
        }
    }
}
