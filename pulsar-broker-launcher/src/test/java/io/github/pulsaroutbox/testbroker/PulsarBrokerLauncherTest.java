package io.github.pulsaroutbox.testbroker;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The launcher says why a broker cannot start instead of hanging. */
class PulsarBrokerLauncherTest {

    @Test
    void missingJavaIsReported() {
        assertThatThrownBy(() -> PulsarBrokerLauncher.create().javaHome(Path.of("/nonexistent/jdk")).start())
                .isInstanceOf(BrokerStartException.class)
                .hasMessageContaining("No Java executable at /nonexistent/jdk/bin/java");
    }

    @Test
    void unbuiltClasspathIsReported() {
        assertThatThrownBy(() -> PulsarBrokerLauncher.create().classpathResource("META-INF/nope.classpath").start())
                .isInstanceOf(BrokerStartException.class)
                .hasMessageContaining("META-INF/nope.classpath is missing")
                .hasMessageContaining("build the pulsar-broker-launcher module");
    }
}
