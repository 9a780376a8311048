// SPDX-License-Identifier: GPL-2.0-only
/*
 * Benchmark of the mediated device core
 *
 * Not part of the series: scripts/bench adds this file to a base tree and
 * to a tree with the fixes, so it only uses what the core has on the base.
 * A fake vendor driver registers parents on KUnit devices; devices are
 * created and removed by writing the real sysfs 'create' and 'remove' files
 * through an in-kernel mount of sysfs, as vfio_mdev_kunit.c does.
 *
 * Every measurement is printed as one line
 *
 *	BENCH <what> key=value ...
 *
 * with times in nanoseconds from ktime_get_ns().  No time is asserted; the
 * cases only fail when an operation fails, or when unregistration during a
 * create/remove storm does not finish within the bound.
 */

#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/mdev.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/slab.h>
#include <linux/uuid.h>

#define BENCH_PATH_LEN		256

static unsigned int count = 1000;
module_param(count, uint, 0444);
MODULE_PARM_DESC(count, "devices created and removed per throughput round");

static unsigned int rounds = 5;
module_param(rounds, uint, 0444);
MODULE_PARM_DESC(rounds, "throughput rounds per boot");

static unsigned int warmup = 50;
module_param(warmup, uint, 0444);
MODULE_PARM_DESC(warmup, "devices created and removed before measuring");

static unsigned int reps = 3;
module_param(reps, uint, 0444);
MODULE_PARM_DESC(reps, "unregistrations per child count per boot");

static unsigned int storm_children = 100;
module_param(storm_children, uint, 0444);
MODULE_PARM_DESC(storm_children, "devices present when the storm starts");

static unsigned int storm_min_ops = 200;
module_param(storm_min_ops, uint, 0444);
MODULE_PARM_DESC(storm_min_ops, "storm operations before unregistration starts");

static unsigned int timeout_s = 60;
module_param(timeout_s, uint, 0444);
MODULE_PARM_DESC(timeout_s, "bound for unregistration during the storm");

static const unsigned int bench_children[] = { 0, 1, 100, 1000 };

struct bench_vendor {
	struct device *dev;
	char type_path[BENCH_PATH_LEN];
	struct mdev_parent parent;
	struct mdev_type type;
	struct mdev_type *types[1];
};

static struct vfsmount *bench_mnt;
static atomic_t bench_seq = ATOMIC_INIT(0);
static atomic_t bench_parents = ATOMIC_INIT(0);

static int bench_probe(struct mdev_device *mdev)
{
	return 0;
}

static void bench_remove(struct mdev_device *mdev)
{
}

static struct mdev_driver bench_driver = {
	.device_api = "vfio-pci",
	.max_instances = 1 << 30,
	.probe = bench_probe,
	.remove = bench_remove,
	.driver = {
		.name = "vfio_mdev_bench",
		.owner = THIS_MODULE,
	},
};

static ssize_t bench_write(const char *path, const char *buf)
{
	struct file *file;
	loff_t pos = 0;
	ssize_t ret;

	file = file_open_root_mnt(bench_mnt, path, O_WRONLY, 0);
	if (IS_ERR(file))
		return PTR_ERR(file);
	ret = kernel_write(file, buf, strlen(buf), &pos);
	__fput_sync(file);
	return ret;
}

static u32 bench_new_tag(void)
{
	return atomic_inc_return(&bench_seq);
}

static void bench_uuid(char *buf, u32 tag)
{
	snprintf(buf, UUID_STRING_LEN + 1, "%08x-6d64-4000-8000-62656e636800",
		 tag);
}

/* Writes the UUID of @tag to 'create' of the type: 0 or a negative errno */
static int bench_create(struct bench_vendor *v, u32 tag)
{
	char path[BENCH_PATH_LEN];
	char uuid[UUID_STRING_LEN + 1];
	ssize_t ret;

	snprintf(path, sizeof(path), "%s/create", v->type_path);
	bench_uuid(uuid, tag);
	ret = bench_write(path, uuid);
	return ret < 0 ? ret : 0;
}

/* Writes "1" to 'remove' of the device of @tag: 0 or a negative errno */
static int bench_remove_dev(u32 tag)
{
	char path[BENCH_PATH_LEN];
	char uuid[UUID_STRING_LEN + 1];
	ssize_t ret;

	bench_uuid(uuid, tag);
	snprintf(path, sizeof(path), "bus/mdev/devices/%s/remove", uuid);
	ret = bench_write(path, "1");
	return ret < 0 ? ret : 0;
}

static int bench_count_child(struct device *dev, void *data)
{
	if (dev->bus == bench_driver.driver.bus)
		(*(unsigned int *)data)++;
	return 0;
}

static unsigned int bench_nr_children(struct bench_vendor *v)
{
	unsigned int n = 0;

	device_for_each_child(v->dev, &n, bench_count_child);
	return n;
}

/* A registered parent on a new KUnit device; the caller frees it */
static struct bench_vendor *bench_register(struct kunit *test)
{
	struct bench_vendor *v;
	char name[32];
	char *kpath;
	int ret;

	v = kzalloc(sizeof(*v), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, v);
	snprintf(name, sizeof(name), "mbench%d",
		 atomic_inc_return(&bench_parents));
	v->dev = kunit_device_register(test, name);
	if (IS_ERR_OR_NULL(v->dev))
		kfree(v);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, v->dev);
	v->type.sysfs_name = "bench";
	v->types[0] = &v->type;
	ret = mdev_register_parent(&v->parent, v->dev, &bench_driver,
				   v->types, 1);
	if (ret)
		kfree(v);
	KUNIT_ASSERT_EQ(test, ret, 0);

	kpath = kobject_get_path(&v->type.kobj, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, kpath);
	/* kobject paths start with '/', paths below the mount do not */
	strscpy(v->type_path, kpath + 1, sizeof(v->type_path));
	kfree(kpath);
	return v;
}

/* Creates @n devices: 0 or the first error */
static int bench_populate(struct bench_vendor *v, unsigned int n)
{
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = bench_create(v, bench_new_tag());
		if (ret)
			return ret;
	}
	return 0;
}

/* Create and remove through sysfs, devices per second */
static void bench_throughput(struct kunit *test)
{
	struct bench_vendor *v = bench_register(test);
	u64 t0, t1, t2, create_ns, remove_ns, start;
	unsigned int r, i, errors;
	int ret;
	u32 tag;

	for (i = 0; i < warmup; i++) {
		tag = bench_new_tag();
		KUNIT_ASSERT_EQ(test, bench_create(v, tag), 0);
		KUNIT_ASSERT_EQ(test, bench_remove_dev(tag), 0);
	}

	for (r = 0; r < rounds; r++) {
		create_ns = 0;
		remove_ns = 0;
		errors = 0;
		start = ktime_get_ns();
		for (i = 0; i < count; i++) {
			tag = bench_new_tag();
			t0 = ktime_get_ns();
			ret = bench_create(v, tag);
			t1 = ktime_get_ns();
			if (!ret)
				ret = bench_remove_dev(tag);
			t2 = ktime_get_ns();
			create_ns += t1 - t0;
			remove_ns += t2 - t1;
			if (ret)
				errors++;
		}
		t2 = ktime_get_ns();
		kunit_info(test,
			   "BENCH throughput round=%u count=%u errors=%u total_ns=%llu create_ns=%llu remove_ns=%llu\n",
			   r, count, errors, t2 - start, create_ns, remove_ns);
		KUNIT_EXPECT_EQ(test, errors, 0);
	}

	mdev_unregister_parent(&v->parent);
	kfree(v);
}

/* mdev_unregister_parent() with 0, 1, 100 and 1000 children */
static void bench_unregister(struct kunit *test)
{
	struct bench_vendor *v;
	unsigned int i, r;
	u64 t0, t1;
	int ret;

	for (r = 0; r < reps; r++) {
		for (i = 0; i < ARRAY_SIZE(bench_children); i++) {
			v = bench_register(test);
			ret = bench_populate(v, bench_children[i]);
			if (ret) {
				mdev_unregister_parent(&v->parent);
				kfree(v);
			}
			KUNIT_ASSERT_EQ(test, ret, 0);
			KUNIT_EXPECT_EQ(test, bench_nr_children(v),
					bench_children[i]);

			t0 = ktime_get_ns();
			mdev_unregister_parent(&v->parent);
			t1 = ktime_get_ns();

			kunit_info(test, "BENCH unregister children=%u rep=%u ns=%llu\n",
				   bench_children[i], r, t1 - t0);
			KUNIT_EXPECT_EQ(test, bench_nr_children(v), 0);
			kfree(v);
		}
	}
}

/* Unregistration while another thread creates and removes devices */

struct bench_storm {
	struct bench_vendor *v;
	bool stop;
	atomic_t ops;		/* writes to 'create' and 'remove' */
	atomic_t ok;		/* of which succeeded */
	struct completion storm_done;
	struct completion unreg_done;
	unsigned int ops_before, ops_after;
	u64 unreg_ns;
};

static int bench_storm_thread(void *data)
{
	struct bench_storm *s = data;
	u32 tag;

	while (!READ_ONCE(s->stop)) {
		tag = bench_new_tag();
		atomic_inc(&s->ops);
		if (!bench_create(s->v, tag)) {
			atomic_inc(&s->ok);
			atomic_inc(&s->ops);
			if (!bench_remove_dev(tag))
				atomic_inc(&s->ok);
		}
		cond_resched();
	}
	complete(&s->storm_done);
	return 0;
}

static int bench_unreg_thread(void *data)
{
	struct bench_storm *s = data;
	u64 t0;

	s->ops_before = atomic_read(&s->ops);
	t0 = ktime_get_ns();
	mdev_unregister_parent(&s->v->parent);
	s->unreg_ns = ktime_get_ns() - t0;
	s->ops_after = atomic_read(&s->ops);
	/* The storm is over when unregistration is */
	WRITE_ONCE(s->stop, true);
	complete(&s->unreg_done);
	return 0;
}

static struct task_struct *bench_thread_on(int (*fn)(void *), void *data,
					   unsigned int cpu, const char *name)
{
	struct task_struct *task;

	task = kthread_create(fn, data, "%s", name);
	if (IS_ERR(task))
		return task;
	kthread_bind(task, cpu);
	wake_up_process(task);
	return task;
}

static void bench_storm(struct kunit *test)
{
	unsigned long timeout = jiffies + msecs_to_jiffies(timeout_s * 1000);
	unsigned int unreg_cpu, storm_cpu;
	struct task_struct *task;
	struct bench_storm *s;
	bool done;

	int ret;

	/* Freed only once both threads are done */
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	init_completion(&s->storm_done);
	init_completion(&s->unreg_done);
	s->v = bench_register(test);
	ret = bench_populate(s->v, storm_children);
	if (ret)
		goto out_unregister;

	/* The storm on another CPU than unregistration, when there is one */
	unreg_cpu = cpumask_first(cpu_online_mask);
	storm_cpu = cpumask_next(unreg_cpu, cpu_online_mask);
	if (storm_cpu >= nr_cpu_ids)
		storm_cpu = unreg_cpu;

	task = bench_thread_on(bench_storm_thread, s, storm_cpu, "mdev_bench_storm");
	if (IS_ERR(task)) {
		ret = PTR_ERR(task);
		goto out_unregister;
	}
	while (atomic_read(&s->ops) < storm_min_ops && time_before(jiffies, timeout))
		msleep(5);

	task = bench_thread_on(bench_unreg_thread, s, unreg_cpu, "mdev_bench_unreg");
	if (IS_ERR(task)) {
		ret = PTR_ERR(task);
		WRITE_ONCE(s->stop, true);
		wait_for_completion(&s->storm_done);
		goto out_unregister;
	}

	done = wait_for_completion_timeout(&s->unreg_done,
					   msecs_to_jiffies(timeout_s * 1000));
	WRITE_ONCE(s->stop, true);
	if (!done) {
		/* Still in use by the stuck unregistration: leak it */
		KUNIT_FAIL(test, "mdev_unregister_parent() did not finish within %u s under the storm (%d storm operations)",
			   timeout_s, atomic_read(&s->ops));
		return;
	}
	if (!wait_for_completion_timeout(&s->storm_done,
					 msecs_to_jiffies(timeout_s * 1000))) {
		KUNIT_FAIL(test, "the storm did not stop within %u s", timeout_s);
		return;
	}

	kunit_info(test,
		   "BENCH storm cpus=%u storm_cpu=%u unreg_cpu=%u children=%u ns=%llu ops_before=%u ops_during=%u ops_total=%d ok_total=%d\n",
		   num_online_cpus(), storm_cpu, unreg_cpu, storm_children,
		   s->unreg_ns, s->ops_before, s->ops_after - s->ops_before,
		   atomic_read(&s->ops), atomic_read(&s->ok));
	KUNIT_EXPECT_EQ(test, bench_nr_children(s->v), 0);
	kfree(s->v);
	kfree(s);
	return;

out_unregister:
	mdev_unregister_parent(&s->v->parent);
	kfree(s->v);
	kfree(s);
	KUNIT_FAIL(test, "setting up the storm failed: %d", ret);
}

static int bench_suite_init(struct kunit_suite *suite)
{
	/* sysfs is built in: there is no module reference to put */
	struct file_system_type *sysfs = get_fs_type("sysfs");
	int ret;

	if (!sysfs)
		return -ENODEV;
	bench_mnt = kern_mount(sysfs);
	if (IS_ERR(bench_mnt))
		return PTR_ERR(bench_mnt);
	ret = mdev_register_driver(&bench_driver);
	if (ret)
		kern_unmount(bench_mnt);
	return ret;
}

static void bench_suite_exit(struct kunit_suite *suite)
{
	mdev_unregister_driver(&bench_driver);
	kern_unmount(bench_mnt);
}

static struct kunit_case bench_cases[] = {
	KUNIT_CASE_SLOW(bench_throughput),
	KUNIT_CASE_SLOW(bench_unregister),
	KUNIT_CASE_SLOW(bench_storm),
	{}
};

static struct kunit_suite bench_suite = {
	.name = "vfio_mdev_bench",
	.suite_init = bench_suite_init,
	.suite_exit = bench_suite_exit,
	.test_cases = bench_cases,
};
kunit_test_suite(bench_suite);

MODULE_DESCRIPTION("Benchmark of the mediated device core");
MODULE_LICENSE("GPL");
