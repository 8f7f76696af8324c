package io.github.pulsaroutbox.pulsar;

import org.axonframework.common.AxonConfigurationException;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What the startup check of broker deduplication does with each answer of the settings it reads. */
class DeduplicationCheckTest {

    private static DeduplicationSettings settings(Map<String, Object> answers) {
        return new DeduplicationSettings() {
            @Override
            public Optional<Boolean> applied(String topic) throws Exception {
                Object answer = answers.get(topic);
                if (answer instanceof Exception e) {
                    throw e;
                }
                return Optional.ofNullable((Boolean) answer);
            }

            @Override
            public String describe() {
                return "the fake";
            }
        };
    }

    private static final String ON = "persistent://shop/sales/on";
    private static final String OFF = "persistent://shop/sales/off";
    private static final String UNSET = "persistent://shop/sales/unset";
    private static final String BROKEN = "persistent://shop/sales/broken";

    @Nested
    class Require {

        @Test
        void passesWhenEveryTopicHasItOn() {
            assertThatCode(() -> new DeduplicationCheck(settings(Map.of(ON, true)), DeduplicationCheck.Mode.REQUIRE)
                    .accept(List.of(ON)))
                    .doesNotThrowAnyException();
        }

        @Test
        void failsNamingTopicsWithItOffOrUnsetAndTheCommandThatTurnsItOn() {
            assertThatThrownBy(() -> new DeduplicationCheck(settings(Map.of(ON, true, OFF, false)),
                                                            DeduplicationCheck.Mode.REQUIRE)
                    .accept(List.of(ON, OFF, UNSET)))
                    .isInstanceOf(AxonConfigurationException.class)
                    .hasMessageContaining("off for outbox topic(s) [" + OFF + ", " + UNSET + "]")
                    .hasMessageContaining("set-deduplication --enable");
        }

        @Test
        void failsNamingWhyATopicCouldNotBeChecked() {
            Exception refused = new IOException("GET …/deduplicationEnabled answered HTTP 401: Unauthorized");
            Exception wrapped = new IllegalStateException("asking failed", new IOException("Connection refused"));
            assertThatThrownBy(() -> new DeduplicationCheck(settings(Map.of(BROKEN, refused, UNSET, wrapped)),
                                                            DeduplicationCheck.Mode.REQUIRE)
                    .accept(List.of(BROKEN, UNSET)))
                    .hasMessageContaining("Could not check broker deduplication (the fake) for ")
                    .hasMessageContaining(BROKEN + " (GET …/deduplicationEnabled answered HTTP 401: Unauthorized)")
                    .hasMessageContaining(UNSET + " (asking failed: Connection refused)");
        }
    }

    /* Settings that hold a connection (the application's admin client) open it once per check, not per topic. */
    @Nested
    class OneConnection {

        @Test
        void aCheckOfSeveralTopicsOpensOneReaderAndClosesIt() {
            java.util.concurrent.atomic.AtomicInteger opened = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.atomic.AtomicInteger closed = new java.util.concurrent.atomic.AtomicInteger();
            DeduplicationSettings counting = new DeduplicationSettings() {
                @Override
                public Optional<Boolean> applied(String topic) {
                    throw new AssertionError("read through the reader");
                }

                @Override
                public Reader open() {
                    opened.incrementAndGet();
                    return new Reader() {
                        @Override
                        public Optional<Boolean> applied(String topic) {
                            return Optional.of(true);
                        }

                        @Override
                        public void close() {
                            closed.incrementAndGet();
                        }
                    };
                }

                @Override
                public String describe() {
                    return "counting";
                }
            };

            new DeduplicationCheck(counting, DeduplicationCheck.Mode.REQUIRE).accept(List.of(ON, OFF, UNSET));

            org.assertj.core.api.Assertions.assertThat(opened).hasValue(1);
            org.assertj.core.api.Assertions.assertThat(closed).hasValue(1);
        }

        @Test
        void aConnectionThatCannotBeOpenedLeavesEveryTopicUncheckedWithWhy() {
            DeduplicationSettings unreachable = new DeduplicationSettings() {
                @Override
                public Optional<Boolean> applied(String topic) {
                    throw new AssertionError("never asked");
                }

                @Override
                public Reader open() throws IOException {
                    throw new IOException("Connection refused");
                }

                @Override
                public String describe() {
                    return "the admin client";
                }
            };

            assertThatThrownBy(() -> new DeduplicationCheck(unreachable, DeduplicationCheck.Mode.REQUIRE)
                    .accept(List.of(ON, OFF)))
                    .hasMessageContaining("Could not check broker deduplication (the admin client) for ")
                    .hasMessageContaining(OFF + " (Connection refused)")
                    .hasMessageContaining(ON + " (Connection refused)");
        }
    }

    @Nested
    class WarnAndOff {

        @Test
        void warnNeverFails() {
            assertThatCode(() -> new DeduplicationCheck(settings(Map.of(OFF, false, BROKEN, new IOException("x"))),
                                                        DeduplicationCheck.Mode.WARN)
                    .accept(List.of(OFF, BROKEN)))
                    .doesNotThrowAnyException();
        }

        @Test
        void offAsksNothing() {
            assertThatCode(() -> new DeduplicationCheck(new DeduplicationSettings() {
                @Override
                public Optional<Boolean> applied(String topic) {
                    throw new AssertionError("asked about " + topic);
                }

                @Override
                public String describe() {
                    return "unused";
                }
            }, DeduplicationCheck.Mode.OFF).accept(List.of(ON)))
                    .doesNotThrowAnyException();
        }
    }
}
