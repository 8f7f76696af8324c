package com.example.shop;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** README.md's "Using it" shows this project's files as they are: a change to one without the other fails the build. */
class ReadmeExampleTest {

    private static final Path README = Path.of("..", "..", "README.md");

    @Test
    void readmeShowsThisProjectsApplicationYml() throws Exception {
        assertThat(Files.readString(README))
                .contains("```yaml\n" + Files.readString(Path.of("src/main/resources/application.yml")) + "```");
    }

    @Test
    void readmeShowsTheStarterDependencyOfThisProject() throws Exception {
        String starter = """
                <dependency>
                    <groupId>io.github.pulsaroutbox</groupId>
                    <artifactId>pulsar-outbox-axon-spring-boot-starter</artifactId>
                    <version>0.1.0-SNAPSHOT</version>
                </dependency>""";
        assertThat(Files.readString(README)).contains("```xml\n" + starter + "\n```");
        assertThat(Files.readString(Path.of("pom.xml")).replaceAll("\n {8}", "\n"))
                .contains(starter);
    }

    @Test
    void docsTestingShowsThisProjectsTest() throws Exception {
        assertThat(Files.readString(Path.of("..", "..", "docs", "testing.md")))
                .contains("```java\n" + Files.readString(Path.of("src/test/java/com/example/shop/ShopApplicationTest.java"))
                                  + "```");
    }

    @Test
    void readmeShowsTheAggregatesAnnotations() throws Exception {
        String order = Files.readString(Path.of("src/main/java/com/example/shop/Order.java"));
        assertThat(order).contains("@Aggregate\n@Outbox\npublic class Order {");
        assertThat(Files.readString(README)).contains("@Aggregate\n@Outbox\npublic class Order { ... }");
    }
}
