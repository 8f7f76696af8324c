package io.github.pulsaroutbox.tailing;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The aggregate types the tailing processor publishes and their topics. */
class TailingTopicsTest {

    private final TailingTopics topics = new TailingTopics();

    @Test
    void beforeResolvingNothingIsPublished() {
        assertThat(topics.captured().types()).isEmpty();
        assertThat(topics.topics()).isEmpty();
        assertThatThrownBy(() -> topics.topicOf("Account")).isInstanceOf(IllegalStateException.class)
                                                          .hasMessageContaining("'Account'");
    }

    @Test
    void resolvesTheTopicsOfTheOutboxAggregatesOnly() {
        topics.resolve(List.of(Account.class, String.class),
                       (type, annotated) -> Optional.of("persistent://public/default/" + type.toLowerCase()));

        assertThat(topics.captured().types()).containsExactly("Account");
        assertThat(topics.topics()).containsOnlyKeys("Account");
        assertThat(topics.topicOf("Account")).isEqualTo("persistent://public/default/account");
        assertThatThrownBy(() -> topics.topicOf("String")).isInstanceOf(IllegalStateException.class);
    }
}
