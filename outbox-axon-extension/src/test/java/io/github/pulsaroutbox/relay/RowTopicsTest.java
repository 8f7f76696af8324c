package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.Outbox;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.capture.CapturedAggregates;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.modelling.command.AggregateRoot;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The topic of a row: stored at capture, else resolved for its aggregate type and cached once found. */
class RowTopicsTest {

    @Outbox(topic = "invoices")
    @AggregateRoot(type = "Invoice")
    static class Invoice {
        @AggregateIdentifier
        String id;
    }

    /** What the resolver answers next, per call; every call recorded. */
    private final AtomicReference<Optional<String>> answer = new AtomicReference<>(Optional.of("orders"));
    private final List<String> asked = new ArrayList<>();
    private final RowTopics topics = new RowTopics((type, annotated) -> {
        asked.add(type + annotated.map(topic -> " @" + topic).orElse(""));
        return answer.get();
    }, () -> CapturedAggregates.of(List.of(Invoice.class)));

    @Nested
    class StoredTopic {

        @Test
        void topicStoredOnTheRowWinsWithoutAskingTheResolver() {
            assertThat(topics.of(entry("Order", "captured-topic"))).contains("captured-topic");
            assertThat(asked).isEmpty();
        }
    }

    /* What intake checks use: never the application's resolver, once more per row. */
    @Nested
    class KnownTopic {

        @Test
        void isTheStoredOrAFoundOneWithoutAskingTheResolver() {
            assertThat(topics.known(entry("Order", "captured-topic"))).contains("captured-topic");
            assertThat(topics.known(entry("Order", null))).isEmpty();
            assertThat(asked).isEmpty();

            topics.of(entry("Order", null));

            assertThat(topics.known(entry("Order", null))).contains("orders");
            assertThat(asked).containsExactly("Order");
        }
    }

    @Nested
    class ResolvedTopic {

        @Test
        void rowWithoutATopicGetsTheResolvedOneForItsType() {
            assertThat(topics.of(entry("Order", null))).contains("orders");
            assertThat(asked).containsExactly("Order");
        }

        @Test
        void resolverIsGivenTheTypesAnnotatedTopic() {
            answer.set(Optional.of("billing"));

            assertThat(topics.of(entry("Invoice", null))).contains("billing");
            assertThat(asked).containsExactly("Invoice @invoices");
        }

        @Test
        void foundTopicIsCachedPerType() {
            topics.of(entry("Order", null));
            answer.set(Optional.of("changed"));

            assertThat(topics.of(entry("Order", null))).contains("orders");
            assertThat(topics.of(entry("Invoice", null))).contains("changed");
            assertThat(asked).containsExactly("Order", "Invoice @invoices");
        }

        @Test
        void typeWithoutATopicIsAskedAgainEachTime() {
            answer.set(Optional.empty());
            assertThat(topics.of(entry("Order", null))).isEmpty();
            assertThat(topics.of(entry("Order", null))).isEmpty();

            answer.set(Optional.of("configured-now"));
            assertThat(topics.of(entry("Order", null))).contains("configured-now");
            assertThat(topics.of(entry("Order", null))).contains("configured-now");

            assertThat(asked).containsExactly("Order", "Order", "Order");
        }

        @Test
        void resolverFailureIsThrownAndNothingIsCached() {
            RowTopics failing = new RowTopics((type, annotated) -> {
                asked.add(type);
                throw new IllegalArgumentException("bad topic name");
            }, CapturedAggregates::none);

            assertThatThrownBy(() -> failing.of(entry("Order", null))).hasMessage("bad topic name");
            assertThatThrownBy(() -> failing.of(entry("Order", null))).hasMessage("bad topic name");
            assertThat(asked).containsExactly("Order", "Order");
        }

        @Test
        void clearForgetsTheCachedTopics() {
            topics.of(entry("Order", null));
            answer.set(Optional.of("reconfigured"));

            topics.clear();

            assertThat(topics.of(entry("Order", null))).contains("reconfigured");
            assertThat(asked).containsExactly("Order", "Order");
        }
    }

    private static OutboxEntry entry(String aggregateType, String topic) {
        return OutboxEntry.pending("id", Instant.EPOCH, "Evt", aggregateType, "A", 0, "{}", "{}",
                                   OutboxEntry.NO_REVISION, null).withTopic(topic);
    }
}
